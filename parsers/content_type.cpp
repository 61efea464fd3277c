#include "parsers/content_type.h"

#include <array>

#include "parsers/textutil.h"

namespace ticketd::parsers {

namespace {

/// RFC 2045 token characters: printable ASCII but the tspecials. A table: it runs per byte.
constexpr std::array<bool, 256> kTokenChar = [] {
    std::array<bool, 256> t{};
    for (int c = 0x21; c < 0x7f; ++c) t[c] = true;
    for (unsigned char c : std::string_view("()<>@,;:\\\"/[]?=")) t[c] = false;
    return t;
}();

bool token_char(char c) { return kTokenChar[static_cast<unsigned char>(c)]; }

/// A plain parameter value: what mimetic takes up to the next ';', less what would need its
/// quoting or comment rules (blanks, quotes, backslashes, parentheses).
bool value_char(char c) {
    return c > 0x20 && c < 0x7f && c != ';' && c != '"' && c != '\\' && c != '(' && c != ')';
}

/// Inside quotes: no ';' (mimetic splits there even inside quotes), quote or backslash.
bool quoted_char(char c) { return (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ';') || c == '\t'; }

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::optional<SimpleContentType> read_simple_content_type(std::string_view v) {
    SimpleContentType ct;
    std::size_t i = 0;
    const std::size_t n = v.size();
    auto token = [&](std::size_t from) {
        std::size_t j = from;
        while (j < n && token_char(v[j])) ++j;
        return j;
    };
    auto skip_blanks = [&] {
        while (i < n && blank(v[i])) ++i;
    };
    std::size_t end = token(0);
    if (end == 0 || end >= n || v[end] != '/') return std::nullopt;
    ct.type = v.substr(0, end);
    i = end + 1;
    end = token(i);
    if (end == i) return std::nullopt;
    ct.subtype = v.substr(i, end - i);
    i = end;
    // Blanks after the subtype: mimetic keeps them in it. Rare: left to mimetic.
    if (i == n) return ct;
    if (v[i] != ';') return std::nullopt;
    ++i;
    // Blanks after a last ';' make mimetic add an empty parameter: left to it.
    if (i < n && blank(v[i]) && v.find_first_not_of(" \t", i) == std::string_view::npos) return std::nullopt;
    skip_blanks();
    while (i < n) {
        end = token(i);
        if (end == i) return std::nullopt;
        const std::string_view name = v.substr(i, end - i);
        i = end;
        skip_blanks();
        if (i == n || v[i] != '=') return std::nullopt;
        ++i;
        skip_blanks();
        std::string_view value;
        if (i < n && v[i] == '"') {
            std::size_t j = i + 1;
            while (j < n && quoted_char(v[j])) ++j;
            if (j == n || v[j] != '"') return std::nullopt;
            value = v.substr(i + 1, j - i - 1);
            i = j + 1;
        } else {
            std::size_t j = i;
            while (j < n && value_char(v[j])) ++j;
            if (j == i) return std::nullopt;
            value = v.substr(i, j - i);
            i = j;
        }
        if (!ct.params.add(name, value)) return std::nullopt;
        skip_blanks();
        if (i == n) break;
        if (v[i] != ';') return std::nullopt;
        ++i;
        if (i < n && blank(v[i]) && v.find_first_not_of(" \t", i) == std::string_view::npos) return std::nullopt;
        skip_blanks();
    }
    return ct;
}

std::string SimpleContentType::str() const {
    std::size_t size = type.size() + 1 + subtype.size();
    for (const auto& [name, value] : params) size += name.size() + value.size() + 5;
    std::string out;
    out.reserve(size);
    out.append(type);
    out.push_back('/');
    out.append(subtype);
    for (const auto& [name, value] : params) {
        out.append("; ");
        out.append(name);
        out.append("=\"");
        out.append(value);
        out.push_back('"');
    }
    return out;
}

bool SimpleContentType::is_multipart() const { return text::iequals(type, "multipart"); }

bool SimpleContentType::is_message_rfc822() const { return text::iequals(type, "message") && text::iequals(subtype, "rfc822"); }

std::string_view SimpleContentType::boundary() const {
    for (const auto& [name, value] : params)
        if (text::iequals(name, "boundary")) return value;
    return {};
}

}  // namespace ticketd::parsers
