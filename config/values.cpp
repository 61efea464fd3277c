#include "config/values.h"

#include <fstream>
#include <sstream>

#include <algorithm>
#include <cctype>
#include <limits>
#include <vector>

namespace ticketd::config {

namespace {

std::string lower_trimmed(std::string_view text) {
    std::size_t b = 0, e = text.size();
    while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
    std::string out(text.substr(b, e - b));
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

/// Reads leading digits into `value`; false on none or overflow.
bool read_number(const std::string& s, std::size_t& i, std::uint64_t& value) {
    std::size_t start = i;
    value = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        unsigned digit = s[i] - '0';
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
        value = value * 10 + digit;
        ++i;
    }
    return i > start;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    std::string s = lower_trimmed(text);
    if (s.empty()) return std::nullopt;
    std::uint64_t total = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        std::uint64_t n = 0;
        if (!read_number(s, i, n)) return std::nullopt;
        std::uint64_t unit = 1;
        if (i < s.size()) {
            switch (s[i]) {
                case 's': unit = 1; break;
                case 'm': unit = 60; break;
                case 'h': unit = 3600; break;
                case 'd': unit = 86400; break;
                case 'w': unit = 7 * 86400; break;
                default: return std::nullopt;
            }
            ++i;
        } else if (total != 0) {
            return std::nullopt;  // "1h30" is ambiguous: ask for "1h30m"
        }
        constexpr std::uint64_t max = std::uint64_t(100) * 365 * 86400;  // a century is plenty
        if (n > max / unit || total + n * unit > max) return std::nullopt;
        total += n * unit;
    }
    return std::chrono::seconds(static_cast<std::int64_t>(total));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::string s = lower_trimmed(text);
    std::size_t i = 0;
    std::uint64_t n = 0;
    if (!read_number(s, i, n)) return std::nullopt;
    std::string unit = s.substr(i);
    while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
    int shift = 0;
    if (unit.empty() || unit == "b") shift = 0;
    else if (unit == "k" || unit == "kb" || unit == "kib") shift = 10;
    else if (unit == "m" || unit == "mb" || unit == "mib") shift = 20;
    else if (unit == "g" || unit == "gb" || unit == "gib") shift = 30;
    else return std::nullopt;
    if (shift && n > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
    return n << shift;
}

std::optional<bool> parse_bool(std::string_view text) {
    std::string s = lower_trimmed(text);
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::string s = lower_trimmed(text);
    bool neg = !s.empty() && s[0] == '-';
    std::size_t i = neg ? 1 : 0;
    std::uint64_t n = 0;
    if (!read_number(s, i, n) || i != s.size()) return std::nullopt;
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return neg ? -static_cast<std::int64_t>(n) : static_cast<std::int64_t>(n);
}

std::optional<Date> parse_iso_date(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    auto digits = [&](std::size_t from, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return std::nullopt;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    auto y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
    if (!y || !m || !d || *y < 1970 || *m < 1 || *m > 12 || *d < 1) return std::nullopt;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    const int days = kDays[*m - 1] + (*m == 2 && leap ? 1 : 0);
    if (*d > days) return std::nullopt;
    return Date{*y, *m, *d};
}

std::optional<std::string> read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace ticketd::config
