#pragma once
// Small string helpers shared by body, reply, bounce and classification code (ASCII case rules:
// header names and the keywords we look for are ASCII).

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/message.h"

namespace ticketd::parsers::text {

// ASCII only, inline: what std::tolower does in the C locale the daemon runs in, without a libc
// call per byte (lower() runs over the first 32 KiB of every report text).
inline char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

inline std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = lower_char(c);
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
