#pragma once
// Business calendars and business-time arithmetic (issue 6). Pure: functions over data, no clock.
//
// A calendar is an IANA time zone (Howard Hinnant's date/tz over the OS tzdata; GCC 12 has no
// C++20 time-zone database), the working hours of each weekday in local wall time, and holidays
// (dates, and month-day pairs that recur every year). Every instant is UTC; local time is only
// used to find where the working stretches of each local day begin and end, so DST changes are
// exact in both directions: a spring-forward Sunday has 23 real hours, a fall-back one 25.

#include <date/tz.h>

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ticketd::sla {

using Time = std::chrono::sys_seconds;  ///< an instant, UTC
using Duration = std::chrono::seconds;

/// Working hours within one local day, [start, end) from local midnight. 0 <= start < end <= 24h:
/// a night shift is written as two intervals (22:00-24:00 and 00:00-06:00 of the next day).
struct Interval {
    std::chrono::minutes start{0}, end{0};
    bool operator==(const Interval&) const = default;
};

/// A stretch of instants, [from, to). `to == Span::open()` means "not ended yet".
struct Span {
    Time from, to;
    static constexpr Time open() { return Time::max(); }
    bool operator==(const Span&) const = default;
};

struct Calendar {
    std::string name;
    const date::time_zone* zone = nullptr;  ///< never null in a loaded calendar
    /// Working intervals per weekday, indexed by date::weekday::c_encoding() (0 = Sunday), sorted,
    /// not overlapping.
    std::array<std::vector<Interval>, 7> week;
    std::set<date::local_days> holidays;                ///< whole local days off
    std::set<std::pair<unsigned, unsigned>> yearly;     ///< (month, day) off every year

    /// Every hour of every day (holidays, if any, still apply).
    static Calendar always(std::string name, const date::time_zone* zone);
    bool is_holiday(date::local_days day) const;
    /// True when some weekday has working hours: business time can always be added.
    bool has_working_time() const;
};

/// The instant at which `duration` of business time has passed since `start`, not counting
/// `pauses` (any order, may overlap). nullopt when that never happens: an open pause begins before
/// the duration is used up (the clock is stopped), or the calendar has no working time in the
/// next ten years. A zero duration is due at `start`.
std::optional<Time> add_business_time(const Calendar& calendar, Time start, Duration duration,
                                      const std::vector<Span>& pauses = {});

/// Business time in [a, b), not counting `pauses`. Zero when b <= a.
Duration business_time_between(const Calendar& calendar, Time a, Time b,
                               const std::vector<Span>& pauses = {});

/// "Europe/Berlin" to its zone; nullptr when the tz database has no such zone.
const date::time_zone* find_zone(const std::string& name);

}  // namespace ticketd::sla
