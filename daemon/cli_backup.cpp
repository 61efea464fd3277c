#include "daemon/cli_backup.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "config/config.h"
#include "store/backup.h"
#include "store/database.h"

namespace ticketd::daemon {

namespace {

constexpr int kExTempFail = 75, kExConfig = 78;

int cmd_backup(const std::string& config_path, const std::string& target) {
    auto loaded = config::load_file(config_path);
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    if (!loaded.config) return kExConfig;
    const auto& path = loaded.config->desk.database;
    try {
        store::OpenOptions opts;
        opts.create = false;   // backing up nothing is an error, not an empty desk
        opts.migrate = false;  // the copy is of the database as it is
        store::Database db(path, opts);
        auto r = store::backup(db, target);
        std::cout << "backup " << target << ": " << r.pages << " pages, " << r.bytes << " bytes from " << path
                  << ", quick_check ok";
        if (r.restarts) std::cout << " (restarted " << r.restarts << " time(s) by concurrent writes)";
        std::cout << "\n";
        return 0;
    } catch (const store::Error& e) {
        std::cerr << "ticketd backup: " << e.what() << "\n";
        return e.temporary() ? kExTempFail : 1;
    }
}

}  // namespace

std::function<std::optional<int>()> add_backup_command(CLI::App& app, const std::string& config_path) {
    auto target = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("backup", "Copy the database to FILE while the daemon runs (SQLite online backup)");
    cmd->add_option("file", *target, "the new backup file (must not exist)")->required();
    return [cmd, target, &config_path]() -> std::optional<int> {
        if (!*cmd) return std::nullopt;
        return cmd_backup(config_path, *target);
    };
}

}  // namespace ticketd::daemon
