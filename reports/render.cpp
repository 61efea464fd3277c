#include "reports/render.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <sstream>

namespace ticketd::reports {

namespace {

const char* kWeekdays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string iso(std::int64_t t) { return iso_utc(t); }

std::string percent(const std::optional<double>& v) {
    if (!v) return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f%%", *v * 100);
    return buf;
}

std::string fixed(const std::optional<double>& v, int digits) {
    if (!v) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
    return buf;
}

nlohmann::json opt(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json opt(const std::optional<double>& v, int digits) {
    return v ? nlohmann::json(std::stod(fixed(v, digits))) : nlohmann::json(nullptr);
}

nlohmann::json durations_json(const Durations& d) {
    return {{"count", d.count},
            {"median_s", opt(d.median)},
            {"p90_s", opt(d.p90)},
            {"business_median_s", opt(d.business_median)},
            {"business_p90_s", opt(d.business_p90)}};
}

nlohmann::json period_json(const PeriodStats& p) {
    return {{"label", p.label},
            {"start", iso(p.start)},
            {"end", iso(p.end)},
            {"opened", p.opened},
            {"resolved", p.resolved},
            {"reopened", p.reopened},
            {"backlog", p.backlog},
            {"fcr_candidates", p.fcr_candidates},
            {"fcr", p.fcr},
            {"fcr_rate", opt(p.fcr_rate, 4)},
            {"first_response", durations_json(p.first_response)},
            {"resolution", durations_json(p.resolution)},
            {"messages_per_ticket", opt(p.messages_per_ticket, 2)},
            {"csat_requests", p.csat_requests},
            {"csat_responses", p.csat_responses},
            {"csat_score", opt(p.csat_score, 2)},
            {"csat_good_ratio", opt(p.csat_good_ratio, 4)}};
}

nlohmann::json csat_json(const std::vector<CsatGroup>& groups, const char* key) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& g : groups)
        out.push_back({{key, g.name},
                       {"csat_requests", g.requests},
                       {"csat_responses", g.responses},
                       {"csat_score", opt(g.score, 2)},
                       {"csat_good_ratio", opt(g.good_ratio, 4)}});
    return out;
}

std::string pad(const std::string& s, std::size_t w, bool right = true) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string num(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : ""; }

}  // namespace

std::string iso_utc(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string human_duration(const std::optional<std::int64_t>& s) {
    if (!s) return "-";
    const long long v = *s < 0 ? 0 : static_cast<long long>(*s);
    char buf[32];
    if (v < 120) std::snprintf(buf, sizeof buf, "%llds", v);
    else if (v < 3600) std::snprintf(buf, sizeof buf, "%lldm", v / 60);
    else if (v < 86400) std::snprintf(buf, sizeof buf, "%lldh%02lldm", v / 3600, v % 3600 / 60);
    else std::snprintf(buf, sizeof buf, "%lldd%02lldh", v / 86400, v % 86400 / 3600);
    return buf;
}

std::string render_text(const Report& r) {
    const auto& o = r.options;
    std::ostringstream out;
    out << "Service desk report " << local_date(o.since, o.zone) << " to " << local_date(o.until, o.zone)
        << " (until, not included), by " << to_string(o.by) << ", time zone " << r.time_zone << "\n";
    if (!o.queue.empty() || !o.tag.empty()) {
        out << "Only tickets";
        if (!o.queue.empty()) out << " in queue " << o.queue;
        if (!o.tag.empty()) out << (o.queue.empty() ? "" : " and") << " tagged " << o.tag;
        out << "\n";
    }
    out << "\n";
    const bool bt = r.business_time;
    // Fixed-width columns: reads in a terminal and in a monospaced mail alike.
    out << pad(o.by == Bucket::month ? "month of" : (o.by == Bucket::week ? "week of" : "day"), 10, false)
        << pad("opened", 8) << pad("resolved", 9) << pad("reopened", 9) << pad("backlog", 8) << pad("FCR", 6)
        << pad("1st resp", 10) << pad("p90", 8) << pad("resolve", 9) << pad("p90", 8) << pad("msgs", 6) << "\n";
    auto row = [&](const PeriodStats& p) {
        out << pad(p.label, 10, false) << pad(std::to_string(p.opened), 8) << pad(std::to_string(p.resolved), 9)
            << pad(std::to_string(p.reopened), 9) << pad(std::to_string(p.backlog), 8) << pad(percent(p.fcr_rate), 6)
            << pad(human_duration(p.first_response.median), 10) << pad(human_duration(p.first_response.p90), 8)
            << pad(human_duration(p.resolution.median), 9) << pad(human_duration(p.resolution.p90), 8)
            << pad(p.messages_per_ticket ? fixed(p.messages_per_ticket, 1) : "-", 6) << "\n";
    };
    for (const auto& p : r.periods) row(p);
    row(r.total);
    out << "\n(1st resp and resolve: medians, wall clock; FCR: first-contact resolution; msgs: messages per "
           "ticket opened)\n";
    const auto& t = r.total;
    if (bt) {
        out << "\nBusiness time (each ticket's SLA calendar): first response median "
            << human_duration(t.first_response.business_median) << ", p90 "
            << human_duration(t.first_response.business_p90) << "; resolution median "
            << human_duration(t.resolution.business_median) << ", p90 " << human_duration(t.resolution.business_p90)
            << "\n";
    }
    out << "\nFirst-contact resolution: " << t.fcr << " of " << t.fcr_candidates
        << " tickets first resolved in the period (" << percent(t.fcr_rate) << ")\n";

    out << "\nSatisfaction (CSAT): " << t.csat_responses << " rating(s), " << t.csat_requests
        << " request(s) sent in the period";
    if (t.csat_score) out << "; mean " << fixed(t.csat_score, 1) << " of 5, " << percent(t.csat_good_ratio) << " good";
    out << "\n";
    for (const auto& [title, groups] : {std::pair<const char*, const std::vector<CsatGroup>*>{"queue", &r.csat_by_queue},
                                        std::pair<const char*, const std::vector<CsatGroup>*>{"agent", &r.csat_by_agent}}) {
        if (groups->empty()) continue;
        out << "  " << pad(std::string("by ") + title, 36, false) << pad("asked", 6) << pad("rated", 6)
            << pad("mean", 6) << pad("good", 6) << "\n";
        for (const auto& g : *groups)
            out << "  " << pad(g.name.empty() ? "(none)" : g.name, 36, false) << pad(std::to_string(g.requests), 6)
                << pad(std::to_string(g.responses), 6) << pad(g.score ? fixed(g.score, 1) : "-", 6)
                << pad(percent(g.good_ratio), 6) << "\n";
    }

    out << "\nTop tags (tickets opened; change against the " << local_date(previous_since(o), o.zone) << " to "
        << local_date(o.since, o.zone) << " period)\n";
    if (r.top_tags.empty()) out << "  (none)\n";
    for (const auto& tag : r.top_tags) {
        const auto change = tag.count - tag.previous;
        out << "  " << pad(tag.tag, 24, false) << pad(std::to_string(tag.count), 6) << "  "
            << (change > 0 ? "+" : "") << change << " (was " << tag.previous << ")\n";
    }
    out << "\nRepeat requesters (more than one ticket opened in the period)\n";
    if (r.repeat_requesters.empty()) out << "  (none)\n";
    for (const auto& rr : r.repeat_requesters) {
        out << "  " << pad(rr.address, 36, false) << pad(std::to_string(rr.tickets), 4) << " tickets";
        if (!rr.shared_tags.empty()) {
            out << ", same topic:";
            for (const auto& tag : rr.shared_tags) out << " " << tag;
        }
        out << "\n";
    }
    out << "\nBusiest hours (tickets opened, " << r.time_zone << ")\n     ";
    for (int h = 0; h < 24; ++h) out << pad(std::to_string(h), 4);
    out << "\n";
    for (int d = 0; d < 7; ++d) {
        out << "  " << kWeekdays[d];
        for (int h = 0; h < 24; ++h) {
            const auto n = r.busiest_hours[d][h];
            out << pad(n ? std::to_string(n) : ".", 4);
        }
        out << "\n";
    }
    return out.str();
}

std::string render_json(const Report& r) {
    const auto& o = r.options;
    nlohmann::json periods = nlohmann::json::array();
    for (const auto& p : r.periods) periods.push_back(period_json(p));
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& t : r.top_tags)
        tags.push_back({{"tag", t.tag}, {"count", t.count}, {"previous", t.previous}, {"change", t.count - t.previous}});
    nlohmann::json repeat = nlohmann::json::array();
    for (const auto& rr : r.repeat_requesters)
        repeat.push_back({{"address", rr.address}, {"tickets", rr.tickets}, {"shared_tags", rr.shared_tags}});
    nlohmann::json grid = nlohmann::json::array();
    for (const auto& day : r.busiest_hours) grid.push_back(day);
    nlohmann::json j{
        {"since", iso(o.since)},
        {"until", iso(o.until)},
        {"by", to_string(o.by)},
        {"queue", o.queue.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.queue)},
        {"tag", o.tag.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.tag)},
        {"time_zone", r.time_zone},
        {"business_time", r.business_time},
        {"periods", periods},
        {"total", period_json(r.total)},
        {"top_tags", tags},
        {"repeat_requesters", repeat},
        {"busiest_hours", {{"weekdays", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}, {"counts", grid}}},
        {"csat_by_queue", csat_json(r.csat_by_queue, "queue")},
        {"csat_by_agent", csat_json(r.csat_by_agent, "agent")},
    };
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_csv(const Report& r) {
    std::ostringstream out;
    out << "period,start,end,opened,resolved,reopened,backlog,fcr_candidates,fcr,fcr_rate,"
           "first_response_count,first_response_median_s,first_response_p90_s,"
           "first_response_business_median_s,first_response_business_p90_s,"
           "resolution_count,resolution_median_s,resolution_p90_s,"
           "resolution_business_median_s,resolution_business_p90_s,messages_per_ticket,"
           "csat_requests,csat_responses,csat_score,csat_good_ratio\r\n";
    auto row = [&](const PeriodStats& p) {
        out << csv_field(p.label) << ',' << iso(p.start) << ',' << iso(p.end) << ',' << p.opened << ','
            << p.resolved << ',' << p.reopened << ',' << p.backlog << ',' << p.fcr_candidates << ',' << p.fcr << ','
            << fixed(p.fcr_rate, 4) << ',' << p.first_response.count << ',' << num(p.first_response.median) << ','
            << num(p.first_response.p90) << ',' << num(p.first_response.business_median) << ','
            << num(p.first_response.business_p90) << ',' << p.resolution.count << ','
            << num(p.resolution.median) << ',' << num(p.resolution.p90) << ','
            << num(p.resolution.business_median) << ',' << num(p.resolution.business_p90) << ','
            << fixed(p.messages_per_ticket, 2) << ',' << p.csat_requests << ',' << p.csat_responses << ','
            << fixed(p.csat_score, 2) << ',' << fixed(p.csat_good_ratio, 4) << "\r\n";
    };
    for (const auto& p : r.periods) row(p);
    row(r.total);
    return out.str();
}

}  // namespace ticketd::reports
