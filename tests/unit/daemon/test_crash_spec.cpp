// TICKETD_CRASH_AT's value (daemon/crash_points.h). The kill itself is exercised by
// tests/integration/test_crash_points.cpp against the real binary.

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "daemon/crash_points.h"

namespace ticketd::daemon {
namespace {

TEST(CrashSpec, ANameAloneMeansTheFirstArrival) {
    auto s = parse_crash_spec("imap.fetched");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->point, "imap.fetched");
    EXPECT_EQ(s->nth, 1);
}

TEST(CrashSpec, ACountAfterTheLastColonPicksTheNthArrival) {
    auto s = parse_crash_spec("smtp.sent:12");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->point, "smtp.sent");
    EXPECT_EQ(s->nth, 12);
}

TEST(CrashSpec, MalformedValuesArmNothing) {
    for (const char* v : {"", ":3", "imap.fetched:", "imap.fetched:0", "imap.fetched:-1", "imap.fetched:2x",
                          "imap.fetched:99999999999999999999"})
        EXPECT_FALSE(parse_crash_spec(v)) << v;
}

TEST(CrashSpec, ThePointListIsUniqueAndDotted) {
    std::set<std::string> seen;
    for (auto* n = crash_point_names(); *n; ++n) {
        EXPECT_TRUE(seen.insert(*n).second) << *n;
        EXPECT_NE(std::strchr(*n, '.'), nullptr) << *n;
    }
    EXPECT_EQ(seen.size(), 8u);
}

TEST(CrashPoint, UnarmedItReturns) {
    // The test runs without TICKETD_CRASH_AT: reaching any point is a no-op.
    ASSERT_EQ(std::getenv("TICKETD_CRASH_AT"), nullptr);
    for (auto* n = crash_point_names(); *n; ++n) crash_point(*n);
    SUCCEED();
}

}  // namespace
}  // namespace ticketd::daemon
