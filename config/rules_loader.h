#pragma once
// Rule files (issue 4) into the rules model, with every error as file:line:col, and the main
// config's `rules:`, `agents:` and `queues:` keys. The model and its evaluation are rules/;
// this is only the YAML side and the checks that need the rest of the config.

#include <string>
#include <vector>

#include "config/config.h"
#include "config/reader.h"
#include "rules/rules.h"

namespace ticketd::config {

/// `rules:` in the main config: a file, a directory (its *.yaml and *.yml in name order) or a
/// list of them, relative to the config file. Paths that do not exist are errors here.
void read_rule_sources(Reader& r, const YAML::Node& node, const std::string& base_dir,
                       std::vector<std::string>& sources);
/// `agents:`: a list of {address, name, queues}.
void read_agents(Reader& r, const YAML::Node& node, std::vector<Agent>& agents);
/// `queues:`: a list of queue names.
void read_queues(Reader& r, const YAML::Node& node, std::vector<std::string>& queues);

/// The files `sources` name, in order (directories expanded, *.yaml and *.yml by name).
std::vector<std::string> rule_files(const std::vector<std::string>& sources);

/// Load rule files into `out` (appending). Problems go to `errors`.
void load_rule_files(const std::vector<std::string>& files, rules::RuleSet& out,
                     std::vector<ConfigError>& errors);
/// One rule file from text; `name` is the file name in errors and the base of relative paths.
void load_rule_text(const std::string& yaml, const std::string& name, rules::RuleSet& out,
                    std::vector<ConfigError>& errors);

/// The checks that need the whole config: queues, agents and templates the rules name exist;
/// no rule is unreachable; the rule files' tests pass. Resolves agent names in `assign` to
/// addresses. Appends to `errors`.
void validate_rules(Config& cfg, std::vector<ConfigError>& errors);

}  // namespace ticketd::config
