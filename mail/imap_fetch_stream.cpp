#include "mail/imap_fetch_stream.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "mail/imap.h"

namespace ticketd::mail {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;  // 19 digits always fit in 64 bits
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

/// libcurl's tags are a capital letter and three digits ("A005"); endofresp() ends the command
/// at any line that starts with the tag and a space.
bool looks_like_tag(std::string_view five) {
    return five.size() == 5 && five[0] >= 'A' && five[0] <= 'Z' &&
           std::isdigit(static_cast<unsigned char>(five[1])) &&
           std::isdigit(static_cast<unsigned char>(five[2])) &&
           std::isdigit(static_cast<unsigned char>(five[3])) && five[4] == ' ';
}

}  // namespace

FetchStreamParser::FetchStreamParser(std::size_t max_literal, std::size_t max_line)
    : max_literal_(max_literal), max_line_(max_line) {}

std::vector<FetchItem> FetchStreamParser::take_items() {
    std::vector<FetchItem> out;
    out.swap(items_);
    return out;
}

bool FetchStreamParser::completed_ok() const {
    return complete_ && completion_.size() >= 2 && ascii_iequals(completion_.substr(0, 2), "OK") &&
           (completion_.size() == 2 || completion_[2] == ' ');
}

void FetchStreamParser::fail(std::string why) {
    if (failed_) return;
    failed_ = true;
    error_ = std::move(why);
    literal_left_ = 0;
}

bool FetchStreamParser::feed(std::string_view bytes) {
    while (!bytes.empty() && !failed_) {
        if (literal_left_ > 0) {
            const std::size_t n = std::min(literal_left_, bytes.size());
            observe(bytes.substr(0, n), true);
            if (literal_is_body_) current_.body.append(bytes.data(), n);
            literal_left_ -= n;
            bytes.remove_prefix(n);
            if (literal_left_ == 0) end_literal();
            continue;
        }
        const auto nl = bytes.find('\n');
        const std::size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
        if (line_.size() + take > max_line_) {
            fail("server line longer than " + std::to_string(max_line_) + " bytes");
            break;
        }
        observe(bytes.substr(0, take), false);
        line_.append(bytes.data(), take);
        bytes.remove_prefix(take);
        if (nl == std::string_view::npos) break;
        std::string line;
        line.swap(line_);
        std::string_view l(line);
        l.remove_suffix(1);  // '\n'
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        on_line(l);
    }
    return !failed_;
}

void FetchStreamParser::observe(std::string_view s, bool literal) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (probing_) {
            if (probe_.empty()) probe_in_literal_ = literal;
            while (i < s.size() && probe_.size() < 5 && s[i] != '\n') probe_ += s[i++];
            if (probe_.size() == 5) {
                if (probe_in_literal_ && looks_like_tag(probe_)) tag_like_ = true;
                probing_ = false;
            }
            if (i < s.size() && s[i] == '\n') {
                ++i;
                probing_ = true;
                probe_.clear();
            }
            continue;
        }
        const auto nl = s.find('\n', i);
        if (nl == std::string_view::npos) break;
        i = nl + 1;
        probing_ = true;
        probe_.clear();
    }
}

void FetchStreamParser::end_literal() {
    // The rest of the line after the literal continues the item list: ")" or more items.
    literal_is_body_ = false;
}

void FetchStreamParser::on_line(std::string_view line) {
    if (complete_) {
        if (!line.empty()) fail("data after the tagged completion");
        return;
    }
    if (in_fetch_) {
        parse_items(line);
        return;
    }
    if (line.size() >= 2 && line[0] == '*' && line[1] == ' ') {
        // "* <seq> FETCH (" starts a response; other untagged data (EXISTS, FLAGS, OK, BYE) is
        // none of ours.
        std::string_view rest = line.substr(2);
        const auto sp = rest.find(' ');
        if (sp == std::string_view::npos || !number(rest.substr(0, sp))) return;
        rest.remove_prefix(sp + 1);
        if (rest.size() < 7 || !ascii_iequals(rest.substr(0, 7), "FETCH (")) return;
        in_fetch_ = true;
        current_ = FetchItem{};
        has_uid_ = false;
        parse_items(rest.substr(7));
        return;
    }
    if (line.empty()) return;
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) {
        fail("unexpected server line: " + log_safe(line, 80));
        return;
    }
    complete_ = true;
    completion_ = log_safe(line.substr(sp + 1), 200);
}

void FetchStreamParser::parse_items(std::string_view s) {
    std::size_t p = 0;
    auto skip_spaces = [&] {
        while (p < s.size() && s[p] == ' ') ++p;
    };
    while (!failed_) {
        skip_spaces();
        if (p >= s.size()) {
            fail("FETCH response ends without ')'");
            return;
        }
        if (s[p] == ')') {
            ++p;
            skip_spaces();
            if (p != s.size()) {
                fail("text after a FETCH response: " + log_safe(s.substr(p), 80));
                return;
            }
            in_fetch_ = false;
            if (has_uid_) items_.push_back(std::move(current_));
            current_ = FetchItem{};
            return;
        }
        // Item name; BODY[HEADER.FIELDS (A B)] holds spaces inside its brackets.
        const std::size_t start = p;
        int depth = 0;
        while (p < s.size()) {
            const char c = s[p];
            if (c == '[') ++depth;
            else if (c == ']') --depth;
            else if (depth <= 0 && (c == ' ' || c == ')' || c == '(')) break;
            ++p;
        }
        const std::string_view name = s.substr(start, p - start);
        if (name.empty() || depth != 0 || p >= s.size() || s[p] != ' ') {
            fail("FETCH item without a value: " + log_safe(s.substr(start), 80));
            return;
        }
        ++p;
        if (p >= s.size()) {
            fail("FETCH item without a value: " + log_safe(name, 80));
            return;
        }
        const bool is_body = ascii_iequals(name, "BODY[]");
        if (s[p] == '{') {
            // A literal ends its line: "{123}" then CRLF, then exactly 123 bytes.
            const auto close = s.find('}', p);
            if (close == std::string_view::npos || close + 1 != s.size()) {
                fail("malformed literal: " + log_safe(s.substr(p), 80));
                return;
            }
            const auto n = number(s.substr(p + 1, close - p - 1));
            if (!n) {
                fail("malformed literal: " + log_safe(s.substr(p), 80));
                return;
            }
            if (*n > max_literal_) {
                fail("literal of " + std::to_string(*n) + " bytes over the limit of " +
                     std::to_string(max_literal_));
                return;
            }
            literal_is_body_ = is_body;
            if (is_body) {
                current_.has_body = true;
                current_.body.clear();
                current_.body.reserve(static_cast<std::size_t>(*n));
            }
            literal_left_ = static_cast<std::size_t>(*n);
            if (literal_left_ == 0) end_literal();
            return;  // the item list goes on after the literal
        }
        if (s[p] == '(') {
            // A list (FLAGS (\Seen)): skipped, quoted strings and nesting respected.
            int level = 0;
            bool quoted = false;
            for (; p < s.size(); ++p) {
                const char c = s[p];
                if (quoted) {
                    if (c == '\\') ++p;
                    else if (c == '"') quoted = false;
                } else if (c == '"') {
                    quoted = true;
                } else if (c == '(') {
                    ++level;
                } else if (c == ')') {
                    if (--level == 0) break;
                } else if (c == '{') {
                    fail("literal inside a FETCH list");
                    return;
                }
            }
            if (p >= s.size()) {
                fail("unterminated list in a FETCH response");
                return;
            }
            ++p;
            continue;
        }
        if (s[p] == '"') {
            for (++p; p < s.size() && s[p] != '"'; ++p)
                if (s[p] == '\\') ++p;
            if (p >= s.size()) {
                fail("unterminated string in a FETCH response");
                return;
            }
            ++p;
            continue;
        }
        const std::size_t vstart = p;
        while (p < s.size() && s[p] != ' ' && s[p] != ')') ++p;
        const std::string_view value = s.substr(vstart, p - vstart);
        if (ascii_iequals(name, "UID")) {
            auto u = number(value);
            if (!u || *u == 0) {
                fail("bad UID in a FETCH response: " + log_safe(value, 40));
                return;
            }
            current_.uid = *u;
            has_uid_ = true;
        } else if (ascii_iequals(name, "RFC822.SIZE")) {
            auto n = number(value);
            if (!n) {
                fail("bad RFC822.SIZE in a FETCH response: " + log_safe(value, 40));
                return;
            }
            current_.size = *n;
        } else if (is_body) {
            current_.has_body = false;  // NIL: the message is gone
            current_.body.clear();
        }
    }
}

std::vector<std::uint64_t> uids_missing(const std::vector<std::uint64_t>& wanted,
                                        const std::vector<FetchItem>& items) {
    std::unordered_set<std::uint64_t> got;
    for (const auto& it : items)
        if (it.has_body) got.insert(it.uid);
    std::vector<std::uint64_t> out;
    for (auto u : wanted)
        if (!got.count(u)) out.push_back(u);
    return out;
}

std::string fetch_sizes_command(const std::vector<std::uint64_t>& uids) {
    return "UID FETCH " + format_uid_set(uids) + " (UID RFC822.SIZE)";
}

std::string fetch_bodies_command(const std::vector<std::uint64_t>& uids) {
    return "UID FETCH " + format_uid_set(uids) + " (UID RFC822.SIZE BODY.PEEK[])";
}

std::vector<std::vector<std::uint64_t>> pack_ranges(const std::vector<std::uint64_t>& uids,
                                                    const std::vector<std::uint64_t>& sizes,
                                                    std::uint64_t max_bytes, std::size_t max_count) {
    std::vector<std::vector<std::uint64_t>> out;
    std::vector<std::uint64_t> group;
    std::uint64_t bytes = 0;
    max_count = std::max<std::size_t>(max_count, 1);
    for (std::size_t i = 0; i < uids.size(); ++i) {
        const std::uint64_t size = i < sizes.size() ? sizes[i] : 0;
        if (!group.empty() && (bytes + size > max_bytes || group.size() >= max_count)) {
            out.push_back(std::move(group));
            group.clear();
            bytes = 0;
        }
        group.push_back(uids[i]);
        bytes += size;
    }
    if (!group.empty()) out.push_back(std::move(group));
    return out;
}

}  // namespace ticketd::mail
