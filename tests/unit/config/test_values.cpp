#include <gtest/gtest.h>

#include "config/values.h"

using namespace ticketd::config;
using std::chrono::seconds;

TEST(ConfigValues, Durations) {
    EXPECT_EQ(parse_duration("30s"), seconds(30));
    EXPECT_EQ(parse_duration("5m"), seconds(300));
    EXPECT_EQ(parse_duration("2h"), seconds(7200));
    EXPECT_EQ(parse_duration("14d"), seconds(14 * 86400));
    EXPECT_EQ(parse_duration("1w"), seconds(7 * 86400));
    EXPECT_EQ(parse_duration("90"), seconds(90));
    EXPECT_EQ(parse_duration("1h30m"), seconds(5400));
    EXPECT_EQ(parse_duration(" 10S "), seconds(10));
    EXPECT_FALSE(parse_duration(""));
    EXPECT_FALSE(parse_duration("-5s"));
    EXPECT_FALSE(parse_duration("5x"));
    EXPECT_FALSE(parse_duration("1h30"));
    EXPECT_FALSE(parse_duration("99999999999999999999s"));
    EXPECT_FALSE(parse_duration("1000000d"));
}

TEST(ConfigValues, Sizes) {
    EXPECT_EQ(parse_size("512"), 512u);
    EXPECT_EQ(parse_size("64K"), 64u << 10);
    EXPECT_EQ(parse_size("64kb"), 64u << 10);
    EXPECT_EQ(parse_size("16M"), 16u << 20);
    EXPECT_EQ(parse_size("2 GiB"), std::uint64_t(2) << 30);
    EXPECT_FALSE(parse_size("lots"));
    EXPECT_FALSE(parse_size("12T"));
    EXPECT_FALSE(parse_size("99999999999999999999G"));
}

TEST(ConfigValues, Booleans) {
    EXPECT_EQ(parse_bool("true"), true);
    EXPECT_EQ(parse_bool("Yes"), true);
    EXPECT_EQ(parse_bool("off"), false);
    EXPECT_FALSE(parse_bool("maybe"));
}

TEST(ConfigValues, EditDistance) {
    EXPECT_EQ(edit_distance("adresses", "addresses"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("same", "same"), 0u);
}

TEST(ConfigValues, IsoDates) {
    EXPECT_EQ(parse_iso_date("2026-11-01"), (Date{2026, 11, 1}));
    EXPECT_EQ(parse_iso_date("2024-02-29"), (Date{2024, 2, 29}));  // leap year
    EXPECT_EQ(parse_iso_date("2000-02-29"), (Date{2000, 2, 29}));  // divisible by 400
    EXPECT_FALSE(parse_iso_date("2026-02-29"));
    EXPECT_FALSE(parse_iso_date("1900-02-29"));
    EXPECT_FALSE(parse_iso_date("2026-04-31"));
    EXPECT_FALSE(parse_iso_date("2026-13-01"));
    EXPECT_FALSE(parse_iso_date("2026-00-10"));
    EXPECT_FALSE(parse_iso_date("2026-1-01"));
    EXPECT_FALSE(parse_iso_date("01.11.2026"));
    EXPECT_FALSE(parse_iso_date("2026-11-01T00:00"));
    EXPECT_FALSE(parse_iso_date(""));
}
