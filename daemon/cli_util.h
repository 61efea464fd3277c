#pragma once
// Small pieces every `ticketd` subcommand shares (kept out of cli.cpp so command groups can live
// in files of their own).

#include <memory>
#include <string>

#include "config/config.h"
#include "store/database.h"

namespace ticketd::daemon {

// sysexits.h values: what MTAs (Postfix pipe, Exim, procmail) understand.
inline constexpr int kExUsage = 64, kExDataErr = 65, kExNoInput = 66, kExTempFail = 75,
                     kExConfig = 78;

/// Load the config; every error goes to stderr as file:line:col: message. nullptr on failure.
std::shared_ptr<const config::Config> load_config_or_report(const std::string& path);

/// The desk's database, which must exist already (inspection commands never create one).
std::unique_ptr<store::Database> open_existing(const config::Config& cfg);

}  // namespace ticketd::daemon
