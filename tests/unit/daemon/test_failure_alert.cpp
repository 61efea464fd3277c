// A failing mailbox is an error once per outage, after alert_after, not once per retry.

#include <gtest/gtest.h>

#include "daemon/failure_alert.h"

using ticketd::daemon::FailureAlerts;
using Event = FailureAlerts::Event;
using namespace std::chrono_literals;

TEST(FailureAlerts, AlertsOnceWhenFailingLongerThanTheThreshold) {
    FailureAlerts a;
    const auto t0 = FailureAlerts::Clock::time_point{} + 1000h;
    EXPECT_EQ(a.record("support", false, t0, 15min), Event::none);
    EXPECT_EQ(a.failing_since("support"), t0);
    EXPECT_EQ(a.record("support", false, t0 + 5min, 15min), Event::none);
    EXPECT_EQ(a.record("support", false, t0 + 14min + 59s, 15min), Event::none);
    EXPECT_EQ(a.record("support", false, t0 + 15min, 15min), Event::alert);
    for (int i = 1; i <= 10; ++i) EXPECT_EQ(a.record("support", false, t0 + 15min + i * 1min, 15min), Event::none);
    EXPECT_EQ(a.record("support", true, t0 + 30min, 15min), Event::recovered);
    EXPECT_EQ(a.failing_since("support"), std::nullopt);
    EXPECT_EQ(a.record("support", true, t0 + 31min, 15min), Event::none);
}

TEST(FailureAlerts, ABriefOutageIsNeitherAlertedNorRecovered) {
    FailureAlerts a;
    const auto t0 = FailureAlerts::Clock::time_point{} + 1000h;
    EXPECT_EQ(a.record("support", false, t0, 15min), Event::none);
    EXPECT_EQ(a.record("support", true, t0 + 1min, 15min), Event::none);
    // The next outage starts its own clock.
    EXPECT_EQ(a.record("support", false, t0 + 20min, 15min), Event::none);
    EXPECT_EQ(a.record("support", false, t0 + 34min, 15min), Event::none);
    EXPECT_EQ(a.record("support", false, t0 + 35min, 15min), Event::alert);
}

TEST(FailureAlerts, MailboxesAreIndependentAndZeroAlertsAtOnce) {
    FailureAlerts a;
    const auto t0 = FailureAlerts::Clock::time_point{} + 1000h;
    EXPECT_EQ(a.record("sales", false, t0, 0s), Event::alert);
    EXPECT_EQ(a.record("billing", false, t0, 15min), Event::none);
    EXPECT_EQ(a.record("billing", true, t0 + 1min, 15min), Event::none);
    EXPECT_EQ(a.record("sales", false, t0 + 1min, 0s), Event::none);
    EXPECT_EQ(a.record("sales", true, t0 + 2min, 0s), Event::recovered);
}
