#pragma once
// `ticketd inbox list|show|release`: what came in, what became of it, and a way back for what
// was quarantined (DESIGN.md #4: kept and flagged, never dropped).

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace ticketd::daemon {

/// Registers the `inbox` subcommands on `app`. The returned function, called after parsing,
/// runs the chosen one and returns its exit status, or nullopt when none was chosen.
/// `config_path` is read when the command runs (after parsing filled it in).
std::function<std::optional<int>()> add_inbox_commands(CLI::App& app, const std::string& config_path);

}  // namespace ticketd::daemon
