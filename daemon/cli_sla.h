#pragma once
// `ticketd sla report [--since DATE] [--json]` (issue 6): SLA conformance per policy and queue.

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace ticketd::daemon {

/// Registers `sla` and its subcommands on `app`; the returned function runs the chosen one (its
/// exit status), else returns nullopt.
std::function<std::optional<int>()> add_sla_commands(CLI::App& app, const std::string& config_path);

}  // namespace ticketd::daemon
