#pragma once
// `ticketd outbox list [--json] [--state S]` and `ticketd outbox retry ID`: what ticketd has
// sent, is about to send or could not deliver, and a way to send a failed mail again.

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace ticketd::daemon {

/// Registers the `outbox` subcommands on `app`. The returned function, called after parsing,
/// runs the chosen one and returns its exit status, or nullopt when none was chosen.
std::function<std::optional<int>()> add_outbox_commands(CLI::App& app, const std::string& config_path);

}  // namespace ticketd::daemon
