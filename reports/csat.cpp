// Satisfaction ratings (CSAT, issue 9) in the report: per period, and per queue and agent over
// the whole report. Pure, like the rest of reports/: docs/reports.md defines the figures.
#include <algorithm>
#include <map>

#include "reports/report.h"

namespace ticketd::reports {

namespace {

struct Tally {
    std::int64_t requests = 0, responses = 0, good = 0, sum = 0;
    void rating(int score) {
        ++responses;
        sum += score;
        if (score >= 4) ++good;
    }
    std::optional<double> score() const {
        return responses ? std::optional<double>(double(sum) / double(responses)) : std::nullopt;
    }
    std::optional<double> good_ratio() const {
        return responses ? std::optional<double>(double(good) / double(responses)) : std::nullopt;
    }
};

void fill(PeriodStats& p, const store::ReportRows& rows) {
    Tally t;
    for (const auto& c : rows.csat_requests)
        if (c.at >= p.start && c.at < p.end) ++t.requests;
    for (const auto& c : rows.ratings)
        if (c.at >= p.start && c.at < p.end) t.rating(c.score);
    p.csat_requests = t.requests;
    p.csat_responses = t.responses;
    p.csat_score = t.score();
    p.csat_good_ratio = t.good_ratio();
}

std::vector<CsatGroup> groups(const std::map<std::string, Tally>& by) {
    std::vector<CsatGroup> out;
    for (const auto& [name, t] : by) out.push_back({name, t.requests, t.responses, t.score(), t.good_ratio()});
    std::stable_sort(out.begin(), out.end(),
                     [](const CsatGroup& a, const CsatGroup& b) { return a.responses > b.responses; });
    return out;
}

}  // namespace

void add_csat(Report& r, const store::ReportRows& rows) {
    for (auto& p : r.periods) fill(p, rows);
    fill(r.total, rows);
    std::map<std::string, Tally> by_queue, by_agent;
    const auto in = [&](const store::ReportCsat& c) { return c.at >= r.options.since && c.at < r.options.until; };
    for (const auto& c : rows.csat_requests)
        if (in(c)) {
            ++by_queue[c.queue].requests;
            ++by_agent[c.agent].requests;
        }
    for (const auto& c : rows.ratings)
        if (in(c)) {
            by_queue[c.queue].rating(c.score);
            by_agent[c.agent].rating(c.score);
        }
    r.csat_by_queue = groups(by_queue);
    r.csat_by_agent = groups(by_agent);
}

}  // namespace ticketd::reports
