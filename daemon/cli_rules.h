#pragma once
// `ticketd rules test MSG.eml`: the dry run of the admins' rules (issue 4). Nothing is written.

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace ticketd::daemon {

/// Registers the `rules` subcommands on `app`. The returned function, called after parsing, runs
/// the chosen one and returns its exit status, or nullopt when none was chosen. `config_path` is
/// read when the command runs (after parsing filled it in).
std::function<std::optional<int>()> add_rules_commands(CLI::App& app, const std::string& config_path);

}  // namespace ticketd::daemon
