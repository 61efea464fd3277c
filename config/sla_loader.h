#pragma once
// `sla.yaml` (issue 6) into the sla model, every error as file:line:col with the same Reader as
// the main config and the rule files. The model, business-time arithmetic and clocks are sla/;
// this is only the YAML side. docs/sla.md is the reference of the file.

#include <string>
#include <vector>

#include "config/config.h"
#include "sla/policy.h"

namespace ticketd::config {

/// One SLA file from text; `name` is the file name in errors. On errors `out` may be partly
/// filled and must not be used.
void load_sla_text(const std::string& yaml, const std::string& name, sla::Policies& out,
                   std::vector<ConfigError>& errors);
/// The same from a file; a file that cannot be read is an error at 0:0.
void load_sla_file(const std::string& path, sla::Policies& out, std::vector<ConfigError>& errors);

/// `sla: PATH` of the main config: loads `cfg.sla_file` (relative to `base_dir`, made absolute)
/// into `cfg.sla`, then checks it against the rest of the config: queues named in `match.queue`
/// exist, `escalate.assign` is an agent (normalised to its address), and with `smtp:` the
/// templates `sla_reminder` and `sla_breach` exist. Errors about the file point into it; those
/// about the config point at `at` (where `sla:` is written).
void load_sla_policies(Config& cfg, const std::string& base_dir, const ConfigError& at,
                       std::vector<ConfigError>& errors);

}  // namespace ticketd::config
