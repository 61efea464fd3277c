#include "daemon/cli_report.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "config/config.h"
#include "daemon/cli_util.h"
#include "reports/render.h"
#include "store/database.h"
#include "store/report_rows.h"

namespace ticketd::daemon {

namespace {

date::local_days local_day(std::int64_t t, const date::time_zone* zone) {
    return date::floor<date::days>(zone->to_local(date::sys_seconds(std::chrono::seconds(t))));
}

std::int64_t midnight(date::local_days d, const date::time_zone* zone) {
    return zone->to_sys(date::local_seconds(d), date::choose::earliest).time_since_epoch().count();
}

struct ReportArgs {
    std::string since, until, by = "week", queue, tag, format = "text", tz;
};

int cmd_report(const std::string& config_path, const ReportArgs& a) {
    auto cfg = load_config_or_report(config_path);
    if (!cfg) return kExConfig;
    const std::string tz = a.tz.empty() ? default_zone(*cfg) : a.tz;
    const auto* zone = sla::find_zone(tz);
    if (!zone) {
        std::cerr << "ticketd report: unknown time zone '" << tz << "' (an IANA name such as Europe/Berlin)\n";
        return kExUsage;
    }
    reports::Options o;
    o.by = *reports::parse_bucket(a.by);  // CLI11 checked the choice
    o.zone = zone;
    o.queue = a.queue;
    o.tag = a.tag;
    auto date = [&](const std::string& s, const char* flag) -> std::optional<std::int64_t> {
        auto t = reports::parse_date(s, zone);
        if (!t) std::cerr << "ticketd report: " << flag << " '" << s << "' is not a date (YYYY-MM-DD)\n";
        return t;
    };
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
    if (!a.until.empty()) {
        auto t = date(a.until, "--until");
        if (!t) return kExUsage;
        o.until = *t;
    } else if (!a.since.empty()) {
        o.until = midnight(local_day(now, zone) + date::days(1), zone);  // up to and with today
    } else {
        o.until = period_start(now, o.by, zone);  // the last complete periods
    }
    if (!a.since.empty()) {
        auto t = date(a.since, "--since");
        if (!t) return kExUsage;
        o.since = *t;
    } else {
        o.since = default_since(o.until, o.by, zone);
    }
    if (o.since >= o.until) {
        std::cerr << "ticketd report: --since must be before --until\n";
        return kExUsage;
    }
    // A report never changes the desk: no migration (an older schema only lacks migration 8's
    // indexes, which make it faster, not different); the rows it needs are all in schema 1.
    store::OpenOptions opts;
    opts.create = false;
    opts.migrate = false;
    std::unique_ptr<store::Database> db;
    try {
        db = std::make_unique<store::Database>(cfg->desk.database, opts);
    } catch (const store::Error& e) {
        std::cerr << "ticketd report: cannot open " << cfg->desk.database << ": " << e.what() << "\n";
        return kExTempFail;
    }
    const auto report = make_report(*db, *cfg, o);
    if (a.format == "json") std::cout << reports::render_json(report);
    else if (a.format == "csv") std::cout << reports::render_csv(report);
    else std::cout << reports::render_text(report);
    return 0;
}

}  // namespace

std::string default_zone(const config::Config& cfg) {
    // The default SLA policy's calendar is the desk's working week; without one, UTC.
    if (!cfg.sla.policies.empty()) {
        try {
            const auto& cal = cfg.sla.calendar_of(cfg.sla.policies.back());
            if (cal.zone) return std::string(cal.zone->name());
        } catch (const std::out_of_range&) {
        }
    }
    return "UTC";
}

std::int64_t period_start(std::int64_t t, reports::Bucket by, const date::time_zone* zone) {
    auto day = local_day(t, zone);
    if (by == reports::Bucket::week) day -= date::days(date::weekday(day).iso_encoding() - 1);
    if (by == reports::Bucket::month) {
        const date::year_month_day ymd(day);
        day = date::local_days(ymd.year() / ymd.month() / date::day(1));
    }
    return midnight(day, zone);
}

std::int64_t default_since(std::int64_t until, reports::Bucket by, const date::time_zone* zone) {
    const auto day = local_day(until, zone);
    switch (by) {
        case reports::Bucket::day: return midnight(day - date::days(7), zone);
        case reports::Bucket::week: return midnight(day - date::days(28), zone);
        case reports::Bucket::month: {
            const date::year_month_day ymd(day);
            const auto ym = date::year_month(ymd.year(), ymd.month()) - date::months(3);
            return midnight(date::local_days(ym / date::day(1)), zone);
        }
    }
    return until;
}

reports::Report make_report(store::Database& db, const config::Config& cfg, reports::Options o) {
    // Business time by each ticket's SLA policy (the `sla:` file); none without one.
    if (!cfg.sla.policies.empty()) o.sla = &cfg.sla;
    store::ReportQuery q;
    q.since = o.since;
    q.previous_since = reports::previous_since(o);
    q.until = o.until;
    q.queue = o.queue;
    q.tag = o.tag;
    return reports::compute(store::load_report_rows(db, q), o);
}

std::function<std::optional<int>()> add_report_command(CLI::App& app, const std::string& config_path) {
    auto args = std::make_shared<ReportArgs>();
    auto* cmd = app.add_subcommand("report", "Service-desk report: volume, backlog, first-contact resolution, "
                                             "response and resolution times, trends (from the database)");
    cmd->add_option("--since", args->since, "first day (YYYY-MM-DD, local midnight; default: 4 weeks, "
                                            "7 days or 3 months before --until)");
    cmd->add_option("--until", args->until, "day after the last (YYYY-MM-DD, not included; default: the start "
                                            "of the current week, day or month)");
    cmd->add_option("--by", args->by, "period: day, week (ISO, from Monday) or month (default week)")
        ->check(CLI::IsMember({"day", "week", "month"}));
    cmd->add_option("--queue", args->queue, "only tickets in this queue");
    cmd->add_option("--tag", args->tag, "only tickets with this tag");
    cmd->add_option("--format", args->format, "text (default), json or csv")
        ->check(CLI::IsMember({"text", "json", "csv"}));
    cmd->add_option("--tz", args->tz, "time zone of days, weeks and the hour grid (IANA name; default: the zone of the default "
                               "SLA policy's calendar, else UTC)");
    return [cmd, args, &config_path]() -> std::optional<int> {
        if (!*cmd) return std::nullopt;
        return cmd_report(config_path, *args);
    };
}

}  // namespace ticketd::daemon
