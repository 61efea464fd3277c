#include "daemon/cli_util.h"

#include <iostream>

namespace ticketd::daemon {

std::shared_ptr<const config::Config> load_config_or_report(const std::string& path) {
    auto loaded = config::load_file(path);
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return loaded.config;
}

std::unique_ptr<store::Database> open_existing(const config::Config& cfg) {
    store::OpenOptions opts;
    opts.create = false;
    return std::make_unique<store::Database>(cfg.desk.database, opts);
}

}  // namespace ticketd::daemon
