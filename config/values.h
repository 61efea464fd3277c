#pragma once
// Scalar value syntax of the config files: durations, sizes, booleans. Pure and unit-tested.
// Also the one way config loaders read a whole file.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ticketd::config {

/// "30s", "5m", "2h", "14d", "1w", "90" (seconds), "1h30m". Negative or overflowing: nullopt.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);
/// "512", "64K", "64KB", "16M", "2G" (powers of 1024). nullopt when malformed.
std::optional<std::uint64_t> parse_size(std::string_view text);
/// true/false, yes/no, on/off (YAML 1.1 habits admins have). nullopt otherwise.
std::optional<bool> parse_bool(std::string_view text);
std::optional<std::int64_t> parse_int(std::string_view text);
/// A calendar date as admins write it: "2026-11-01" (ISO 8601, proleptic Gregorian; the day must
/// exist: 2026-02-29 is an error). No time zone: callers decide which day it means.
struct Date {
    int year = 0, month = 0, day = 0;
    bool operator==(const Date&) const = default;
};
std::optional<Date> parse_iso_date(std::string_view text);
/// A whole file's bytes; nullopt when it cannot be opened (errno says why).
std::optional<std::string> read_whole_file(const std::string& path);
/// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace ticketd::config
