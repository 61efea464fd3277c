#include "tickets/ids.h"

#include <sys/random.h>

#include <cerrno>
#include <charconv>
#include <system_error>

namespace ticketd::tickets {

namespace {

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::optional<std::int64_t> to_number(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
}

}  // namespace

std::string new_token() {
    unsigned char bytes[kTokenLength / 2];
    std::size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        got += static_cast<std::size_t>(n);
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

bool looks_like_token(std::string_view s) {
    if (s.size() < 6 || s.size() > 32) return false;
    for (char c : s)
        if (!is_hex(c)) return false;
    return true;
}

std::string make_message_id(std::int64_t number, std::string_view token, std::int64_t seq,
                            std::string_view host) {
    std::string out = std::to_string(number);
    out += '.';
    out += token;
    out += ".r";
    out += std::to_string(seq);
    out += '@';
    out += host;
    return out;
}

std::optional<OurMessageId> parse_message_id(std::string_view id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    auto at = id.rfind('@');
    if (at == std::string_view::npos || at + 1 >= id.size()) return std::nullopt;
    std::string_view local = id.substr(0, at);
    OurMessageId out;
    out.host = to_lower(id.substr(at + 1));
    // number "." token ".r" seq
    auto d1 = local.find('.');
    if (d1 == std::string_view::npos) return std::nullopt;
    auto d2 = local.find(".r", d1 + 1);
    if (d2 == std::string_view::npos) return std::nullopt;
    auto number = to_number(local.substr(0, d1));
    std::string_view token = local.substr(d1 + 1, d2 - d1 - 1);
    std::string_view seq = local.substr(d2 + 2);
    if (!number || !looks_like_token(token) || seq.empty()) return std::nullopt;
    for (char c : seq)
        if (!is_digit(c)) return std::nullopt;
    out.number = *number;
    out.token = to_lower(token);
    auto [p, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), out.seq);
    if (ec != std::errc() || p != seq.data() + seq.size()) return std::nullopt;
    return out;
}

std::string format_subject_tag(std::string_view prefix, std::int64_t number,
                               std::string_view token) {
    std::string out = "[";
    out += prefix;
    out += " #";
    out += std::to_string(number);
    if (!token.empty()) {
        out += ' ';
        out += token;
    }
    out += ']';
    return out;
}

std::optional<SubjectTag> parse_subject_tag(std::string_view subject, std::string_view prefix) {
    if (prefix.empty()) return std::nullopt;
    for (std::size_t start = subject.find('['); start != std::string_view::npos;
         start = subject.find('[', start + 1)) {
        std::size_t i = start + 1;
        auto skip_spaces = [&] {
            while (i < subject.size() && subject[i] == ' ') ++i;
        };
        skip_spaces();
        if (i + prefix.size() > subject.size() || !iequals(subject.substr(i, prefix.size()), prefix))
            continue;
        i += prefix.size();
        skip_spaces();
        if (i >= subject.size() || subject[i] != '#') continue;
        ++i;
        std::size_t digits = i;
        while (i < subject.size() && is_digit(subject[i])) ++i;
        auto number = to_number(subject.substr(digits, i - digits));
        if (!number) continue;
        SubjectTag tag;
        tag.number = *number;
        // Optional token after one separator; "·" (U+00B7) is two bytes in UTF-8.
        std::size_t j = i;
        if (j < subject.size() && (subject[j] == ' ' || subject[j] == '-' || subject[j] == '/' ||
                                   subject[j] == ':' || subject[j] == '.')) {
            ++j;
        } else if (subject.substr(j, 2) == "\xc2\xb7") {
            j += 2;
        }
        while (j < subject.size() && subject[j] == ' ') ++j;
        std::size_t tok = j;
        while (j < subject.size() && is_hex(subject[j])) ++j;
        std::size_t end = j;
        while (end < subject.size() && subject[end] == ' ') ++end;
        if (j > tok && end < subject.size() && subject[end] == ']' &&
            looks_like_token(subject.substr(tok, j - tok))) {
            tag.token = to_lower(subject.substr(tok, j - tok));
        } else {
            end = i;
            while (end < subject.size() && subject[end] == ' ') ++end;
            if (end >= subject.size() || subject[end] != ']') continue;
        }
        tag.pos = start;
        tag.len = end + 1 - start;
        return tag;
    }
    return std::nullopt;
}

std::string strip_subject_tags(std::string_view subject, std::string_view prefix) {
    std::string out(subject);
    while (auto tag = parse_subject_tag(out, prefix)) {
        std::size_t pos = tag->pos, len = tag->len;
        // Take one adjacent space with the tag so "Re: [X #1] hello" becomes "Re: hello".
        if (pos + len < out.size() && out[pos + len] == ' ')
            ++len;
        else if (pos > 0 && out[pos - 1] == ' ')
            --pos, ++len;
        out.erase(pos, len);
    }
    return out;
}

std::string make_plus_address(std::string_view our_address, std::int64_t number,
                              std::string_view token) {
    auto at = our_address.rfind('@');
    if (at == std::string_view::npos) return std::string(our_address);
    std::string out(our_address.substr(0, at));
    out += '+';
    out += std::to_string(number);
    out += '.';
    out += token;
    out += our_address.substr(at);
    return out;
}

std::optional<PlusAddress> parse_plus_address(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view local = address.substr(0, at);
    auto plus = local.find('+');
    if (plus == std::string_view::npos) return std::nullopt;
    std::string_view detail = local.substr(plus + 1);
    auto dot = detail.find('.');
    PlusAddress out;
    auto number = to_number(detail.substr(0, dot));
    if (!number) return std::nullopt;
    out.number = *number;
    if (dot != std::string_view::npos) {
        std::string_view token = detail.substr(dot + 1);
        if (!looks_like_token(token)) return std::nullopt;
        out.token = to_lower(token);
    }
    out.base = to_lower(local.substr(0, plus)) + "@" + to_lower(address.substr(at + 1));
    return out;
}

}  // namespace ticketd::tickets
