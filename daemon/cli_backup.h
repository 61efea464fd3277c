#pragma once
// `ticketd backup FILE`: an online, consistent copy of the desk's database (SQLite's backup API),
// safe while `ticketd run` keeps writing.

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace ticketd::daemon {

/// Registers `backup` on `app`; the returned function runs it when it was chosen (its exit
/// status), else returns nullopt. `config_path` is read when the command runs.
std::function<std::optional<int>()> add_backup_command(CLI::App& app, const std::string& config_path);

}  // namespace ticketd::daemon
