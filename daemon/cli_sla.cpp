#include "daemon/cli_sla.h"

#include <CLI/CLI.hpp>
#include <date/date.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "daemon/cli_util.h"
#include "store/sla.h"
#include "tickets/sla.h"

namespace ticketd::daemon {

namespace {

struct ReportArgs {
    std::string since;
    bool json = false;
};

int cmd_sla_report(const std::string& config_path, const ReportArgs& a) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    std::int64_t since = 0;
    if (!a.since.empty()) {
        // A day, in UTC: tickets created on or after its start.
        int y = 0;
        unsigned m = 0, d = 0;
        char tail = 0;
        const bool read = std::sscanf(a.since.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) == 3;
        const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
        if (!read || !ymd.ok()) {
            std::cerr << "ticketd sla report: --since: expected YYYY-MM-DD, got '" << a.since << "'\n";
            return kExUsage;
        }
        const date::sys_days day{ymd};
        since = std::chrono::sys_seconds(day).time_since_epoch().count();
    }
    auto db = open_existing(*cfg);
    if (db->schema_version() < 6) {
        std::cerr << "ticketd sla report: the database has no SLA clocks yet (start `ticketd run` once to migrate it)\n";
        return 1;
    }
    const auto groups = tickets::build_sla_report(store::SlaStore(*db).report_rows(since));
    if (a.json) std::cout << tickets::sla_report_json(groups).dump(2) << "\n";
    else std::cout << tickets::render_sla_report(groups);
    return 0;
}

}  // namespace

std::function<std::optional<int>()> add_sla_commands(CLI::App& app, const std::string& config_path) {
    auto* sla = app.add_subcommand("sla", "SLA clocks (issue 6)");
    sla->require_subcommand(1);
    auto args = std::make_shared<ReportArgs>();
    auto* report = sla->add_subcommand(
        "report", "Per policy and queue: tickets, targets met and breached, conformance %, median first "
                  "response and resolution in business time");
    report->add_option("--since", args->since, "only tickets created on or after this day (YYYY-MM-DD, UTC)");
    report->add_flag("--json", args->json, "print a JSON array, one object per policy and queue");
    return [report, args, &config_path]() -> std::optional<int> {
        if (!*report) return std::nullopt;
        return cmd_sla_report(config_path, *args);
    };
}

}  // namespace ticketd::daemon
