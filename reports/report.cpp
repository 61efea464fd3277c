#include "reports/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

namespace ticketd::reports {

namespace {

using namespace std::chrono;

bool done(const std::string& s) { return s == "resolved" || s == "closed"; }

const date::time_zone* zone_or_utc(const date::time_zone* z) { return z ? z : date::locate_zone("UTC"); }

date::local_seconds to_local(std::int64_t t, const date::time_zone* z) {
    return zone_or_utc(z)->to_local(sys_seconds(seconds(t)));
}

std::int64_t to_sys(date::local_days d, const date::time_zone* z) {
    // A midnight that does not exist (a DST jump at 00:00) starts the day at the jump.
    return zone_or_utc(z)->to_sys(date::local_seconds(d), date::choose::earliest).time_since_epoch().count();
}

/// One status change, the ticket's creation being "open" from created_at.
struct Transition {
    std::int64_t at;
    std::string from, to;
};

struct TicketView {
    const store::ReportTicket* t = nullptr;
    std::vector<Transition> transitions;  ///< in time order
    const sla::Calendar* calendar = nullptr;
    bool pause_pending = false;
    bool ever_reopened = false;
    std::optional<std::int64_t> first_resolution;

    /// Spans before `until` in which the ticket did not wait on us: resolved/closed always
    /// (time after a resolution that a reopen undid), pending too under pause_while_pending.
    std::vector<sla::Span> pauses(std::int64_t until) const {
        std::vector<sla::Span> out;
        std::string status = "open";
        std::int64_t since = t->created_at;
        auto paused = [&](const std::string& s) { return done(s) || (pause_pending && s == "pending"); };
        for (const auto& tr : transitions) {
            if (tr.at >= until) break;
            if (paused(status) && tr.at > since)
                out.push_back({sla::Time(seconds(since)), sla::Time(seconds(tr.at))});
            status = tr.to;
            since = tr.at;
        }
        if (paused(status) && until > since) out.push_back({sla::Time(seconds(since)), sla::Time(seconds(until))});
        return out;
    }
    std::optional<std::int64_t> business(std::int64_t from, std::int64_t to) const {
        if (!calendar) return std::nullopt;
        return sla::business_time_between(*calendar, sla::Time(seconds(from)), sla::Time(seconds(to)), pauses(to))
            .count();
    }
};

std::vector<TicketView> views(const store::ReportRows& rows, const Options& o) {
    std::unordered_map<std::int64_t, std::vector<const store::ReportStatusChange*>> by_ticket;
    for (const auto& c : rows.changes) by_ticket[c.ticket].push_back(&c);
    std::vector<TicketView> out;
    out.reserve(rows.tickets.size());
    for (const auto& t : rows.tickets) {
        TicketView v;
        v.t = &t;
        if (auto it = by_ticket.find(t.id); it != by_ticket.end())
            for (const auto* c : it->second) v.transitions.push_back({c->at, c->from, c->to});
        std::stable_sort(v.transitions.begin(), v.transitions.end(),
                         [](const Transition& a, const Transition& b) { return a.at < b.at; });
        // A resolution the trail does not show (a desk older than the status events, seeded
        // data): closed_at is when it was resolved.
        const std::string last = v.transitions.empty() ? "open" : v.transitions.back().to;
        if (done(t.status) && !done(last) && t.closed_at && *t.closed_at < o.until)
            v.transitions.push_back({std::max(*t.closed_at, t.created_at), last, t.status});
        for (const auto& tr : v.transitions) {
            if (!done(tr.from) && done(tr.to) && !v.first_resolution) v.first_resolution = tr.at;
            if (done(tr.from) && !done(tr.to)) v.ever_reopened = true;
        }
        if (o.sla && !o.sla->policies.empty()) {
            sla::Facts f;
            f.priority = t.priority;
            f.queue = t.queue;
            f.tags = t.tags;
            f.status = t.status;
            if (const auto* p = o.sla->select(f)) {
                try {
                    v.calendar = &o.sla->calendar_of(*p);
                    v.pause_pending = p->pause_while_pending;
                } catch (const std::out_of_range&) {
                    v.calendar = nullptr;
                }
            }
        }
        out.push_back(std::move(v));
    }
    return out;
}

struct Collect {
    std::vector<std::int64_t> first_response, first_response_b, resolution, resolution_b;
    std::int64_t messages = 0, messages_tickets = 0;
};

Durations summarize(const std::vector<std::int64_t>& wall, const std::vector<std::int64_t>& business) {
    Durations d;
    d.count = wall.size();
    d.median = percentile(wall, 50);
    d.p90 = percentile(wall, 90);
    d.business_median = percentile(business, 50);
    d.business_p90 = percentile(business, 90);
    return d;
}

/// Stats for each [bounds[i], bounds[i+1]).
std::vector<PeriodStats> stats(const std::vector<TicketView>& tickets, const std::vector<std::int64_t>& bounds,
                               const date::time_zone* zone) {
    std::vector<PeriodStats> out;
    if (bounds.size() < 2) return out;
    const std::size_t n = bounds.size() - 1;
    out.resize(n);
    std::vector<Collect> c(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i].start = bounds[i];
        out[i].end = bounds[i + 1];
        out[i].label = local_date(bounds[i], zone);
    }
    // backlog[i]: +1 where a stretch starts counting, -1 after it stops, over the ends bounds[1..n].
    std::vector<std::int64_t> backlog(n + 1, 0);
    auto add_open_stretch = [&](std::vector<std::int64_t>& diff, std::int64_t s, std::optional<std::int64_t> d) {
        const auto ends = bounds.begin() + 1;
        const auto first = static_cast<std::size_t>(std::upper_bound(ends, bounds.end(), s) - ends);
        const auto past = d ? static_cast<std::size_t>(std::upper_bound(ends, bounds.end(), *d) - ends) : n;
        if (first < past) {
            ++diff[first];
            --diff[past];
        }
    };
    auto bucket = [&](std::int64_t at) -> std::optional<std::size_t> {
        if (at < bounds.front() || at >= bounds.back()) return std::nullopt;
        return static_cast<std::size_t>(std::upper_bound(bounds.begin(), bounds.end(), at) - bounds.begin() - 1);
    };
    for (const auto& v : tickets) {
        const auto& t = *v.t;
        if (auto b = bucket(t.created_at)) {
            auto& p = out[*b];
            ++p.opened;
            c[*b].messages += t.human_messages;
            ++c[*b].messages_tickets;
            if (!t.agent_answers.empty()) {
                const auto answer = t.agent_answers.front();
                c[*b].first_response.push_back(answer - t.created_at);
                if (auto bt = v.business(t.created_at, answer)) c[*b].first_response_b.push_back(*bt);
            }
        }
        for (const auto& tr : v.transitions) {
            auto b = bucket(tr.at);
            if (!b) continue;
            if (!done(tr.from) && done(tr.to)) {
                ++out[*b].resolved;
                c[*b].resolution.push_back(tr.at - t.created_at);
                if (auto bt = v.business(t.created_at, tr.at)) c[*b].resolution_b.push_back(*bt);
            } else if (done(tr.from) && !done(tr.to)) {
                ++out[*b].reopened;
            }
        }
        if (v.first_resolution) {
            if (auto b = bucket(*v.first_resolution)) {
                const auto answers = std::count_if(t.agent_answers.begin(), t.agent_answers.end(),
                                                   [&](std::int64_t a) { return a <= *v.first_resolution; });
                if (answers >= 1) {
                    ++out[*b].fcr_candidates;
                    if (answers == 1 && !v.ever_reopened) ++out[*b].fcr;
                }
            }
        }
        // Backlog: the ticket counts at each period end e in (s, d] of every stretch in which it
        // is not done (s: creation or a reopen, d: the resolution that ends it); a difference
        // array over the period ends, so a daily report over a year costs no more per ticket.
        std::string status = "open";
        std::int64_t since = t.created_at;
        for (const auto& tr : v.transitions) {
            if (!done(status) && done(tr.to)) add_open_stretch(backlog, since, tr.at);
            else if (done(status) && !done(tr.to)) since = tr.at;
            status = tr.to;
        }
        if (!done(status)) add_open_stretch(backlog, since, std::nullopt);
    }
    std::int64_t open_now = 0;
    for (std::size_t i = 0; i < n; ++i) {
        open_now += backlog[i];
        out[i].backlog = open_now;
    }
    for (std::size_t i = 0; i < n; ++i) {
        auto& p = out[i];
        if (p.fcr_candidates > 0) p.fcr_rate = static_cast<double>(p.fcr) / static_cast<double>(p.fcr_candidates);
        p.first_response = summarize(c[i].first_response, c[i].first_response_b);
        p.resolution = summarize(c[i].resolution, c[i].resolution_b);
        if (c[i].messages_tickets > 0)
            p.messages_per_ticket =
                static_cast<double>(c[i].messages) / static_cast<double>(c[i].messages_tickets);
    }
    return out;
}

}  // namespace

const char* to_string(Bucket b) {
    switch (b) {
        case Bucket::day: return "day";
        case Bucket::week: return "week";
        case Bucket::month: return "month";
    }
    return "week";
}

std::optional<Bucket> parse_bucket(const std::string& s) {
    if (s == "day") return Bucket::day;
    if (s == "week") return Bucket::week;
    if (s == "month") return Bucket::month;
    return std::nullopt;
}

std::optional<std::int64_t> percentile(std::vector<std::int64_t> values, int p) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    // Nearest rank: ceil(p/100 * n), 1-based; integer arithmetic, so no rounding surprises.
    std::size_t rank = (static_cast<std::size_t>(p) * values.size() + 99) / 100;
    if (rank == 0) rank = 1;
    return values[rank - 1];
}

std::int64_t previous_since(const Options& o) { return o.since - (o.until - o.since); }

std::vector<std::int64_t> boundaries(std::int64_t since, std::int64_t until, Bucket by, const date::time_zone* zone) {
    std::vector<std::int64_t> out;
    if (until <= since) return out;
    out.push_back(since);
    date::local_days day = date::floor<date::days>(to_local(since, zone));
    for (;;) {
        switch (by) {
            case Bucket::day: day += date::days(1); break;
            case Bucket::week:  // ISO weeks: the next Monday
                day += date::days(8 - date::weekday(day).iso_encoding());
                break;
            case Bucket::month: {
                const date::year_month_day ymd(day);
                const auto next = date::year_month(ymd.year(), ymd.month()) + date::months(1);
                day = date::local_days(next / date::day(1));
                break;
            }
        }
        const std::int64_t b = to_sys(day, zone);
        if (b >= until) break;
        if (b > out.back()) out.push_back(b);
    }
    out.push_back(until);
    return out;
}

std::optional<std::int64_t> parse_date(const std::string& text, const date::time_zone* zone) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return std::nullopt;
    const date::year_month_day ymd{date::year(y), date::month(m), date::day(d)};
    if (!ymd.ok()) return std::nullopt;
    return to_sys(date::local_days(ymd), zone);
}

std::string local_date(std::int64_t t, const date::time_zone* zone) {
    return date::format("%F", date::floor<date::days>(to_local(t, zone)));
}

Report compute(const store::ReportRows& rows, const Options& o) {
    Report r;
    r.options = o;
    const auto* zone = zone_or_utc(o.zone);
    r.time_zone = std::string(zone->name());
    r.business_time = o.sla && !o.sla->policies.empty();
    const auto tickets = views(rows, o);
    r.periods = stats(tickets, boundaries(o.since, o.until, o.by, zone), zone);
    auto total = stats(tickets, {o.since, o.until}, zone);
    if (!total.empty()) {
        r.total = total.front();
        r.total.label = "total";
    }

    std::map<std::string, TagTrend> tags;
    for (const auto& [tag, n] : rows.previous_tags) tags[tag].previous = n;
    std::map<std::string, std::vector<const store::ReportTicket*>> by_requester;
    for (const auto& v : tickets) {
        const auto& t = *v.t;
        const bool current = t.created_at >= o.since && t.created_at < o.until;
        if (!current) continue;
        for (const auto& tag : t.tags) ++tags[tag].count;
        if (!t.requester.empty()) by_requester[t.requester].push_back(&t);
        const auto local = to_local(t.created_at, zone);
        const auto day = date::floor<date::days>(local);
        const unsigned wd = date::weekday(day).iso_encoding() - 1;  // 0 = Monday
        const auto hour = date::floor<hours>(local - day).count();
        ++r.busiest_hours[wd][static_cast<std::size_t>(hour)];
    }
    for (auto& [name, trend] : tags) {
        trend.tag = name;
        if (trend.count > 0) r.top_tags.push_back(trend);
    }
    std::stable_sort(r.top_tags.begin(), r.top_tags.end(),
                     [](const TagTrend& a, const TagTrend& b) { return a.count > b.count; });
    if (r.top_tags.size() > o.top_tags) r.top_tags.resize(o.top_tags);

    for (const auto& [address, list] : by_requester) {
        if (list.size() < 2) continue;
        RepeatRequester rr;
        rr.address = address;
        rr.tickets = static_cast<std::int64_t>(list.size());
        std::map<std::string, int> seen;
        for (const auto* t : list)
            for (const auto& tag : t->tags) ++seen[tag];
        for (const auto& [tag, k] : seen)
            if (k >= 2) rr.shared_tags.push_back(tag);
        r.repeat_requesters.push_back(std::move(rr));
    }
    std::stable_sort(r.repeat_requesters.begin(), r.repeat_requesters.end(),
                     [](const RepeatRequester& a, const RepeatRequester& b) { return a.tickets > b.tickets; });
    add_csat(r, rows);
    return r;
}

}  // namespace ticketd::reports
