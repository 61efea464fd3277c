#pragma once
// Service-desk reports (issue 9) as pure functions over the rows store/report_rows.h loads: no
// clock, no database, no I/O. docs/reports.md defines every figure; the tests in
// tests/unit/reports/ check them against hand-worked histories.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sla/policy.h"
#include "store/report_rows.h"

namespace ticketd::reports {

enum class Bucket { day, week, month };
const char* to_string(Bucket b);  ///< "day", "week", "month"
std::optional<Bucket> parse_bucket(const std::string& s);

struct Options {
    std::int64_t since = 0, until = 0;      ///< [since, until), UTC seconds
    Bucket by = Bucket::week;
    std::string queue, tag;                 ///< echoed; the rows are already filtered
    const date::time_zone* zone = nullptr;  ///< buckets and the hour grid; nullptr: UTC
    /// Business time by the calendar of each ticket's SLA policy; nullptr or empty: wall clock only.
    const sla::Policies* sla = nullptr;
    std::size_t top_tags = 10;
};

/// Nearest-rank percentiles (no interpolation: every figure is one that happened).
struct Durations {
    std::size_t count = 0;
    std::optional<std::int64_t> median, p90;                    ///< seconds, wall clock
    std::optional<std::int64_t> business_median, business_p90;  ///< seconds of business time
};

struct PeriodStats {
    std::int64_t start = 0, end = 0;
    std::string label;                  ///< local date of the start: "2026-03-02" ("total": "total")
    std::int64_t opened = 0, resolved = 0, reopened = 0;
    std::int64_t backlog = 0;           ///< open or pending at `end`
    std::int64_t fcr_candidates = 0;    ///< first resolved here, with at least one agent answer
    std::int64_t fcr = 0;               ///< of those: one agent answer before it, never reopened
    std::optional<double> fcr_rate;     ///< fcr / fcr_candidates
    Durations first_response;           ///< tickets opened here that have an agent answer
    Durations resolution;               ///< resolutions here, from the ticket's creation
    std::optional<double> messages_per_ticket;  ///< requester and agent messages, tickets opened here
    std::int64_t csat_requests = 0;     ///< rating requests sent in the period (CSAT)
    std::int64_t csat_responses = 0;    ///< ratings given in the period (a replaced one: when last given)
    std::optional<double> csat_score;       ///< their mean, 1..5
    std::optional<double> csat_good_ratio;  ///< the share scored 4 or 5 (good is 5, bad 1)
};

/// Satisfaction ratings of one agent or queue over [since, until) (reports/csat.cpp).
struct CsatGroup {
    std::string name;  ///< the agent's address or the queue; "" when none
    std::int64_t requests = 0, responses = 0;
    std::optional<double> score, good_ratio;
};

struct TagTrend {
    std::string tag;
    std::int64_t count = 0;     ///< tickets opened in [since, until) carrying it
    std::int64_t previous = 0;  ///< the same in the period of equal length just before
};

struct RepeatRequester {
    std::string address;
    std::int64_t tickets = 0;               ///< opened in [since, until)
    std::vector<std::string> shared_tags;   ///< tags on two or more of them: the same topic
};

struct Report {
    Options options;
    std::string time_zone;                   ///< the zone's name ("UTC")
    bool business_time = false;              ///< business figures are present
    std::vector<PeriodStats> periods;
    PeriodStats total;                       ///< the whole [since, until); backlog at until
    std::vector<TagTrend> top_tags;          ///< most tickets first
    std::vector<RepeatRequester> repeat_requesters;  ///< most tickets first
    /// Tickets opened, by local weekday (0 = Monday) and hour.
    std::array<std::array<std::int64_t, 24>, 7> busiest_hours{};
    std::vector<CsatGroup> csat_by_queue, csat_by_agent;  ///< most responses first, then by name
};

/// The CSAT figures of `r` (its periods, total and groups) from rows.csat_requests and
/// rows.ratings; compute() calls it.
void add_csat(Report& r, const store::ReportRows& rows);

/// `rows` loaded for [since, until) with ReportQuery.previous_since = previous_since(options)
/// (the tag trends' previous period).
Report compute(const store::ReportRows& rows, const Options& options);

/// The start of the period of equal length before `since`: since - (until - since).
std::int64_t previous_since(const Options& options);

/// The bucket boundaries: since, each local midnight / Monday / first of the month after it,
/// until. At least two entries when since < until.
std::vector<std::int64_t> boundaries(std::int64_t since, std::int64_t until, Bucket by,
                                     const date::time_zone* zone);

/// "2026-03-02" as the local midnight starting that day in `zone` (nullptr: UTC).
std::optional<std::int64_t> parse_date(const std::string& text, const date::time_zone* zone);
std::string local_date(std::int64_t t, const date::time_zone* zone);

/// Nearest rank: the smallest value with at least p% of the values at or below it.
std::optional<std::int64_t> percentile(std::vector<std::int64_t> values, int p);

}  // namespace ticketd::reports
