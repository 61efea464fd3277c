#pragma once
// `ticketd report`: the service-desk report (issue 9) from the database, as text, JSON or CSV.
// The figures are reports/report.h; this is only the command line around them.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "reports/report.h"

namespace CLI {
class App;
}
namespace ticketd::config {
struct Config;
}
namespace ticketd::store {
class Database;
}

namespace ticketd::daemon {

/// Registers `report` on `app`; the returned function runs it when it was chosen (its exit
/// status), else returns nullopt.
std::function<std::optional<int>()> add_report_command(CLI::App& app, const std::string& config_path);

/// The zone reports use unless told: the default SLA policy's calendar zone, else "UTC".
std::string default_zone(const config::Config& cfg);

/// The start of the day, ISO week or month holding `t` in `zone`: where the default period ends.
std::int64_t period_start(std::int64_t t, reports::Bucket by, const date::time_zone* zone);
/// The default period before `until`: 7 days, 4 weeks or 3 months.
std::int64_t default_since(std::int64_t until, reports::Bucket by, const date::time_zone* zone);

/// Loads the rows and computes: what `ticketd report` and the scheduled digest both run.
reports::Report make_report(store::Database& db, const config::Config& cfg, reports::Options options);

}  // namespace ticketd::daemon
