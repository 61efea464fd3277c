#pragma once
// Small string helpers shared by body, reply, bounce and classification code (ASCII case rules:
// header names and the keywords we look for are ASCII).

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/message.h"

namespace ticketd::parsers::text {

// ASCII only, inline: what std::tolower does in the C locale the daemon runs in, without a libc
// call per byte (lower() runs over the first 32 KiB of every report text).
inline char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

/// lower_char on eight bytes at once (SWAR): a byte gains 0x20 when it is 'A'..'Z'. Each byte's
/// low seven bits plus a constant set its high bit when they reach 'A' (resp. pass 'Z'), with no
/// carry into the next byte; bytes of 0x80 and above (UTF-8) are left alone.
inline std::uint64_t lower_word(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    const std::uint64_t low7 = w & ~high;
    const std::uint64_t from_a = low7 + (0x80 - 'A') * ones;      // high bit: low7 >= 'A'
    const std::uint64_t past_z = low7 + (0x80 - 'Z' - 1) * ones;  // high bit: low7 > 'Z'
    const std::uint64_t upper = from_a & ~past_z & ~w & high;
    return w | (upper >> 2);
}

/// ASCII lower-case copy (lower_char on every byte), eight bytes at a time: it runs over the
/// first 32 KiB of every bounce report.
inline std::string lower(std::string_view s) {
    std::string r(s);
    char* p = r.data();
    const char* src = s.data();  // words are read from the input, never from what was just written
    const std::size_t n = r.size();
    std::size_t i = 0;
    std::uint64_t w;
    for (; i + 8 <= n; i += 8) {
        std::memcpy(&w, src + i, 8);
        w = lower_word(w);
        std::memcpy(p + i, &w, 8);
    }
    if (i == n) return r;
    if (n >= 8) {
        // The last (fewer than eight) bytes as the word that ends at the end (lowering bytes
        // lowered already changes nothing): header names, the most common input, are mostly
        // 8 to 16 bytes long.
        std::memcpy(&w, src + n - 8, 8);
        w = lower_word(w);
        std::memcpy(p + n - 8, &w, 8);
        return r;
    }
    for (; i < n; ++i) p[i] = lower_char(p[i]);
    return r;
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
inline bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// What std::isspace accepts in the C locale (ticketd never sets another), inline: trim runs on
// every line of a bounce report.
inline bool space_char(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && space_char(s.front())) s.remove_prefix(1);
    while (!s.empty() && space_char(s.back())) s.remove_suffix(1);
    return s;
}

/// First header named `name` (case-insensitive), or nullptr. Same contract as Message::header,
/// kept here so these pure functions need nothing but the plain data.
inline const Header* find_header(const Message& m, std::string_view name) {
    for (const Header& h : m.headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

/// The text of a leaf as UTF-8 when the core decoded it, else its raw bytes.
inline std::string_view leaf_text(const Leaf& l) { return l.is_text ? l.text() : std::string_view(l.data); }

}  // namespace ticketd::parsers::text
