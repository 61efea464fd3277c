// Business-time arithmetic: working hours with a lunch break, weekends, dated and yearly
// holidays, pauses, DST changes in both directions in Europe/Berlin and America/New_York, and
// business_time_between as the inverse of add_business_time over many random starts.
#include <gtest/gtest.h>

#include <random>

#include "sla/calendar.h"

namespace ticketd::sla {
namespace {

using namespace std::chrono_literals;
using date::Friday;
using date::Monday;
using date::Sunday;

Time utc(int y, unsigned m, unsigned d, int hh, int mm = 0) {
    return Time{date::sys_days{date::year{y} / date::month{m} / date::day{d}}} + std::chrono::hours(hh) +
           std::chrono::minutes(mm);
}

Interval iv(int h1, int m1, int h2, int m2) {
    return {std::chrono::hours(h1) + std::chrono::minutes(m1), std::chrono::hours(h2) + std::chrono::minutes(m2)};
}

const date::time_zone* zone(const char* name) {
    auto z = find_zone(name);
    EXPECT_NE(z, nullptr) << name;
    return z;
}

/// Mon-Fri 09:00-12:30 and 13:30-17:30 (7.5 h a day).
Calendar office(const char* tz = "Europe/Berlin") {
    Calendar c;
    c.name = "office";
    c.zone = zone(tz);
    for (unsigned d = Monday.c_encoding(); d <= Friday.c_encoding(); ++d) c.week[d] = {iv(9, 0, 12, 30), iv(13, 30, 17, 30)};
    return c;
}

/// Mon-Fri 09:00-17:00.
Calendar nine_to_five(const char* tz) {
    Calendar c;
    c.name = "nine_to_five";
    c.zone = zone(tz);
    for (unsigned d = Monday.c_encoding(); d <= Friday.c_encoding(); ++d) c.week[d] = {iv(9, 0, 17, 0)};
    return c;
}

date::local_days local(int y, unsigned m, unsigned d) { return date::local_days{date::year{y} / date::month{m} / date::day{d}}; }

TEST(BusinessTime, LunchBreakIsNotCounted) {
    auto cal = office();
    // Mon 2026-01-19 12:00 CET (11:00 UTC) + 1h: 30 min before lunch, 30 min after.
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 19, 11), 1h), utc(2026, 1, 19, 13));
    EXPECT_EQ(business_time_between(cal, utc(2026, 1, 19, 11), utc(2026, 1, 19, 13)), 1h);
}

TEST(BusinessTime, TicketOpenedFridayEveningIsDueMondayMorning) {
    auto cal = office();
    // Fri 2026-01-16 18:00 CET (17:00 UTC): closed until Mon 09:00 CET; +1h is Mon 10:00 CET.
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 16, 17), 1h), utc(2026, 1, 19, 9));
    EXPECT_EQ(business_time_between(cal, utc(2026, 1, 16, 17), utc(2026, 1, 19, 9)), 1h);
    // Opened during the last hour: Fri 17:00 CET + 1h = 30 min Friday, 30 min Monday.
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 16, 16), 1h), utc(2026, 1, 19, 8, 30));
}

TEST(BusinessTime, ZeroDurationIsDueAtOnceAndNegativeSpanIsZero) {
    auto cal = office();
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 17, 3), 0s), utc(2026, 1, 17, 3));
    EXPECT_EQ(business_time_between(cal, utc(2026, 1, 19, 12), utc(2026, 1, 19, 10)), 0s);
}

TEST(BusinessTime, BerlinSpringForwardOverTheWeekend) {
    auto cal = office();
    // Fri 2026-03-27 17:00 CET = 16:00 UTC. Clocks go forward on Sun 03-29. Mon 09:30 CEST =
    // 07:30 UTC; a fixed +01:00 offset would say 08:30.
    EXPECT_EQ(add_business_time(cal, utc(2026, 3, 27, 16), 1h), utc(2026, 3, 30, 7, 30));
    EXPECT_EQ(business_time_between(cal, utc(2026, 3, 27, 16), utc(2026, 3, 30, 7, 30)), 1h);
}

TEST(BusinessTime, BerlinFallBackOverTheWeekend) {
    auto cal = office();
    // Fri 2026-10-23 17:00 CEST = 15:00 UTC; clocks go back on Sun 10-25; Mon 09:30 CET = 08:30 UTC.
    EXPECT_EQ(add_business_time(cal, utc(2026, 10, 23, 15), 1h), utc(2026, 10, 26, 8, 30));
}

TEST(BusinessTime, NewYorkBothChanges) {
    auto cal = nine_to_five("America/New_York");
    // Fri 2026-03-06 16:30 EST (21:30 UTC) + 1h; DST starts Sun 03-08; Mon 09:30 EDT = 13:30 UTC.
    EXPECT_EQ(add_business_time(cal, utc(2026, 3, 6, 21, 30), 1h), utc(2026, 3, 9, 13, 30));
    // Fri 2026-10-30 16:30 EDT (20:30 UTC) + 1h; DST ends Sun 11-01; Mon 09:30 EST = 14:30 UTC.
    EXPECT_EQ(add_business_time(cal, utc(2026, 10, 30, 20, 30), 1h), utc(2026, 11, 2, 14, 30));
    // A whole working week either side of the change is 40 h.
    EXPECT_EQ(business_time_between(cal, utc(2026, 3, 2, 0), utc(2026, 3, 14, 0)), 80h);
}

TEST(BusinessTime, HoursOnTheNightOfTheChangeCountRealTime) {
    // Sunday 01:00-04:00 local: 2 real hours on a spring-forward night (an hour does not exist),
    // 4 on a fall-back night (an hour happens twice), 3 on an ordinary one.
    for (const char* tz : {"Europe/Berlin", "America/New_York"}) {
        Calendar cal;
        cal.name = "night";
        cal.zone = zone(tz);
        cal.week[Sunday.c_encoding()] = {iv(1, 0, 4, 0)};
        bool berlin = std::string(tz) == "Europe/Berlin";
        Time spring_week = berlin ? utc(2026, 3, 23, 0) : utc(2026, 3, 2, 12);
        Time fall_week = berlin ? utc(2026, 10, 19, 0) : utc(2026, 10, 26, 12);
        EXPECT_EQ(business_time_between(cal, spring_week, spring_week + 7 * 24h), 2h) << tz;
        EXPECT_EQ(business_time_between(cal, fall_week, fall_week + 7 * 24h), 4h) << tz;
        EXPECT_EQ(business_time_between(cal, fall_week + 7 * 24h, fall_week + 14 * 24h), 3h) << tz;
    }
}

TEST(BusinessTime, AroundTheClockCountsRealHoursAcrossDst) {
    auto cal = Calendar::always("24x7", zone("Europe/Berlin"));
    // Sun 2026-03-29 00:00 CET to Mon 00:00 CEST: a 23-hour day; Sun 10-25: a 25-hour day.
    EXPECT_EQ(business_time_between(cal, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)), 23h);
    EXPECT_EQ(business_time_between(cal, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)), 25h);
    EXPECT_EQ(add_business_time(cal, utc(2026, 3, 28, 11), 24h), utc(2026, 3, 29, 11));
    EXPECT_EQ(add_business_time(cal, utc(2026, 10, 24, 11), 24h), utc(2026, 10, 25, 11));
}

TEST(BusinessTime, HolidayOnAMonday) {
    auto cal = office();
    cal.holidays.insert(local(2026, 4, 6));  // Easter Monday
    // Fri 2026-04-03 17:00 CEST (15:00 UTC) + 1h: 30 min Friday, Monday off, Tue 09:30 CEST =
    // 07:30 UTC.
    EXPECT_EQ(add_business_time(cal, utc(2026, 4, 3, 15), 1h), utc(2026, 4, 7, 7, 30));
    EXPECT_EQ(business_time_between(cal, utc(2026, 4, 3, 0), utc(2026, 4, 8, 0)), 15h);
    cal.holidays.clear();
    EXPECT_EQ(add_business_time(cal, utc(2026, 4, 3, 15), 1h), utc(2026, 4, 6, 7, 30));
}

TEST(BusinessTime, YearlyHolidaysRecur) {
    auto cal = office();
    cal.yearly = {{12, 25}, {12, 26}, {1, 1}};
    // Wed 2025-12-24 17:00 CET + 1h: Thu 25 and Fri 26 off, the weekend, Mon 29 09:30 CET.
    EXPECT_EQ(add_business_time(cal, utc(2025, 12, 24, 16), 1h), utc(2025, 12, 29, 8, 30));
    // Thu 2026-12-24 17:00 CET + 1h: Fri 25 off, the weekend, Mon 28 09:30 CET.
    EXPECT_EQ(add_business_time(cal, utc(2026, 12, 24, 16), 1h), utc(2026, 12, 28, 8, 30));
    // Thu 2026-12-31 17:00 CET + 1h: Fri 2027-01-01 off; Mon 2027-01-04 09:30.
    EXPECT_EQ(add_business_time(cal, utc(2026, 12, 31, 16), 1h), utc(2027, 1, 4, 8, 30));
    EXPECT_TRUE(cal.is_holiday(local(2031, 12, 25)));
    EXPECT_FALSE(cal.is_holiday(local(2031, 12, 24)));
}

TEST(BusinessTime, PauseAndResumeAcrossAWeekend) {
    auto cal = office();
    // Fri 2026-01-16 15:00 CET (14:00 UTC), 4h. Paused Fri 16:00 CET to Mon 10:00 CET: 1h Friday,
    // Mon 10:00-12:30 and 13:30-14:00: due Mon 14:00 CET = 13:00 UTC.
    std::vector<Span> pauses{{utc(2026, 1, 16, 15), utc(2026, 1, 19, 9)}};
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 16, 14), 4h, pauses), utc(2026, 1, 19, 13));
    EXPECT_EQ(business_time_between(cal, utc(2026, 1, 16, 14), utc(2026, 1, 19, 13), pauses), 4h);
    // Without the pause: Fri 15:00-17:30 is 2.5h, Mon 09:00-10:30.
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 16, 14), 4h), utc(2026, 1, 19, 9, 30));
    // Overlapping and unordered pauses count once.
    std::vector<Span> messy{{utc(2026, 1, 17, 0), utc(2026, 1, 19, 9)}, {utc(2026, 1, 16, 15), utc(2026, 1, 17, 1)}};
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 16, 14), 4h, messy), utc(2026, 1, 19, 13));
}

TEST(BusinessTime, AnOpenPauseStopsTheClock) {
    auto cal = office();
    std::vector<Span> pauses{{utc(2026, 1, 19, 9), Span::open()}};
    // Started Mon 09:00 CET, paused from 10:00 CET on: 1h counts, 2h is never reached.
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 19, 8), 2h, pauses), std::nullopt);
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 19, 8), 1h, pauses), utc(2026, 1, 19, 9));
    EXPECT_EQ(business_time_between(cal, utc(2026, 1, 19, 8), utc(2026, 1, 30, 0), pauses), 1h);
}

TEST(BusinessTime, NoWorkingTimeIsNeverDue) {
    Calendar cal;
    cal.name = "never";
    cal.zone = zone("UTC");
    EXPECT_FALSE(cal.has_working_time());
    EXPECT_EQ(add_business_time(cal, utc(2026, 1, 1, 0), 1h), std::nullopt);
}

TEST(BusinessTime, FindZoneRejectsUnknownNames) {
    EXPECT_NE(find_zone("Europe/Berlin"), nullptr);
    EXPECT_EQ(find_zone("Europe/Berln"), nullptr);
    EXPECT_EQ(find_zone("+01:00"), nullptr);
}

// business_time_between(start, add_business_time(start, d)) == d, and the due moment is the
// earliest such: one second earlier is short by one second. Over random starts through the
// DST changes of 2026, random durations and random pauses, on four calendars.
TEST(BusinessTime, BetweenIsTheInverseOfAdd) {
    auto berlin = office();
    berlin.yearly = {{12, 25}, {5, 1}};
    berlin.holidays = {local(2026, 4, 6)};
    auto ny = nine_to_five("America/New_York");
    auto always = Calendar::always("24x7", zone("Australia/Lord_Howe"));  // a 30-minute DST shift
    Calendar nights;
    nights.name = "nights";
    nights.zone = zone("America/New_York");
    for (auto& d : nights.week) d = {iv(0, 0, 6, 0), iv(22, 0, 24, 0)};
    nights.week[Sunday.c_encoding()] = {iv(1, 0, 3, 30)};

    std::mt19937_64 rng(20261202);
    const Time year_start = utc(2026, 1, 1, 0);
    std::uniform_int_distribution<long> second_of_year(0, 365L * 86400);
    std::uniform_int_distribution<long> duration_s(1, 60L * 3600);
    std::uniform_int_distribution<int> coin(0, 3);
    int checked = 0;
    for (const Calendar* cal : {&berlin, &ny, &always, &nights}) {
        for (int i = 0; i < 500; ++i) {
            Time start = year_start + std::chrono::seconds(second_of_year(rng));
            Duration d{duration_s(rng)};
            std::vector<Span> pauses;
            if (coin(rng) == 0) {
                Time from = start + std::chrono::seconds(duration_s(rng));
                pauses.push_back({from, from + std::chrono::seconds(duration_s(rng))});
            }
            auto due = add_business_time(*cal, start, d, pauses);
            ASSERT_TRUE(due) << cal->name;
            ASSERT_EQ(business_time_between(*cal, start, *due, pauses), d)
                << cal->name << " start " << date::format("%F %T", start) << " + " << d.count() << "s";
            ASSERT_EQ(business_time_between(*cal, start, *due - 1s, pauses), d - 1s) << cal->name;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 2000);
}

}  // namespace
}  // namespace ticketd::sla
