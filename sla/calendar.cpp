#include "sla/calendar.h"

#include <algorithm>
#include <stdexcept>

namespace ticketd::sla {

namespace {

using date::local_days;
using date::local_seconds;

/// How far ahead we look for working time before giving up (a calendar whose every day is a
/// dated holiday for years is not a calendar anyone means).
constexpr int kMaxDays = 366 * 10;

/// Sorted, merged copy of `pauses`.
std::vector<Span> normalized(const std::vector<Span>& pauses) {
    std::vector<Span> v;
    for (const auto& p : pauses)
        if (p.from < p.to) v.push_back(p);
    std::sort(v.begin(), v.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
    std::vector<Span> out;
    for (const auto& p : v) {
        if (!out.empty() && p.from <= out.back().to) out.back().to = std::max(out.back().to, p.to);
        else out.push_back(p);
    }
    return out;
}

/// Walks the working time of `cal` from `from` on, in order, with `pauses` cut out: calls
/// fn(a, b) for each counted stretch [a, b). fn returns false to stop. Returns false when it
/// stopped because the time ran out (an open pause, or kMaxDays without working time).
template <typename Fn>
bool walk(const Calendar& cal, Time from, const std::vector<Span>& pauses, Fn&& fn) {
    const date::time_zone* zone = cal.zone;
    local_days day = date::floor<date::days>(zone->to_local(from));
    // Each local day's intervals end no later than the next local midnight; where a midnight is
    // ambiguous (a fall-back at 00:00) the day's end and the next day's start overlap, so every
    // stretch begins no earlier than the last one ended: nothing is counted twice.
    Time last_end = from;
    std::size_t pause = 0;
    for (int i = 0; i < kMaxDays; ++i, day += date::days{1}) {
        if (cal.is_holiday(day)) continue;
        const auto& intervals = cal.week[date::weekday{day}.c_encoding()];
        for (const auto& iv : intervals) {
            // Local times that do not exist (spring forward) map to the transition; ones that exist
            // twice (fall back) are taken at their first occurrence for a start and their second
            // for an end, so the interval covers all the real time its wall-clock hours span.
            Time a = zone->to_sys(local_seconds{day} + iv.start, date::choose::earliest);
            Time b = zone->to_sys(local_seconds{day} + iv.end, date::choose::latest);
            a = std::max(a, last_end);
            if (a >= b) continue;
            last_end = b;
            // Cut the pauses out of [a, b).
            while (a < b) {
                while (pause < pauses.size() && pauses[pause].to <= a) ++pause;
                if (pause < pauses.size() && pauses[pause].from <= a) {
                    if (pauses[pause].to == Span::open()) return false;
                    a = std::min(b, pauses[pause].to);
                    continue;
                }
                Time end = b;
                if (pause < pauses.size() && pauses[pause].from < b) end = pauses[pause].from;
                if (!fn(a, end)) return true;
                a = end;
            }
        }
    }
    return false;
}

}  // namespace

Calendar Calendar::always(std::string name, const date::time_zone* zone) {
    Calendar c;
    c.name = std::move(name);
    c.zone = zone;
    for (auto& day : c.week) day = {Interval{std::chrono::minutes(0), std::chrono::hours(24)}};
    return c;
}

bool Calendar::is_holiday(date::local_days day) const {
    if (holidays.count(day)) return true;
    if (yearly.empty()) return false;
    date::year_month_day ymd{day};
    return yearly.count({static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())}) > 0;
}

bool Calendar::has_working_time() const {
    return std::any_of(week.begin(), week.end(), [](const auto& d) { return !d.empty(); });
}

std::optional<Time> add_business_time(const Calendar& calendar, Time start, Duration duration,
                                      const std::vector<Span>& pauses) {
    if (duration <= Duration::zero()) return start;
    if (!calendar.zone) throw std::invalid_argument("sla: calendar '" + calendar.name + "' has no time zone");
    Duration left = duration;
    std::optional<Time> due;
    walk(calendar, start, normalized(pauses), [&](Time a, Time b) {
        Duration piece = b - a;
        if (piece >= left) {
            due = a + left;
            return false;
        }
        left -= piece;
        return true;
    });
    return due;
}

Duration business_time_between(const Calendar& calendar, Time a, Time b, const std::vector<Span>& pauses) {
    if (b <= a) return Duration::zero();
    if (!calendar.zone) throw std::invalid_argument("sla: calendar '" + calendar.name + "' has no time zone");
    Duration total{0};
    walk(calendar, a, normalized(pauses), [&](Time from, Time to) {
        if (from >= b) return false;
        total += std::min(to, b) - from;
        return to < b;
    });
    return total;
}

const date::time_zone* find_zone(const std::string& name) {
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        return nullptr;
    }
}

}  // namespace ticketd::sla
