#include "mail/imap.h"

#include <algorithm>
#include <cctype>

namespace ticketd::mail {

bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

namespace {

constexpr std::uint64_t kMaxUid = 4294967295ULL;  // nz-number is 32 bits (RFC 3501 9)

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

/// Whole-token decimal number; nullopt on anything else or overflow above `max`.
std::optional<std::uint64_t> parse_number(std::string_view s, std::uint64_t max = kMaxUid) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (v > (max - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return lines;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

/// The number inside "[KEY n]" of an untagged OK line, if the line carries that code.
std::optional<std::uint64_t> response_code_number(std::string_view line, std::string_view key) {
    auto open = line.find('[');
    if (open == std::string_view::npos) return std::nullopt;
    auto close = line.find(']', open);
    if (close == std::string_view::npos) return std::nullopt;
    auto parts = split_spaces(line.substr(open + 1, close - open - 1));
    if (parts.size() != 2 || !ascii_iequals(parts[0], key)) return std::nullopt;
    return parse_number(parts[1]);
}

}  // namespace

std::optional<MailboxStatus> parse_mailbox_status(std::string_view response) {
    MailboxStatus st;
    bool have_validity = false;
    for (auto line : split_lines(response)) {
        if (!istarts_with(line, "* ")) continue;
        std::string_view rest = line.substr(2);
        if (istarts_with(rest, "OK ")) {
            if (auto v = response_code_number(rest, "UIDVALIDITY"); v && *v > 0) {
                st.uidvalidity = *v;
                have_validity = true;
            } else if (auto n = response_code_number(rest, "UIDNEXT")) {
                st.uidnext = *n;
            }
            continue;
        }
        auto parts = split_spaces(rest);
        if (parts.size() == 2 && ascii_iequals(parts[1], "EXISTS")) {
            if (auto n = parse_number(parts[0])) st.exists = *n;
        }
    }
    if (!have_validity) return std::nullopt;
    return st;
}

std::optional<std::vector<std::uint64_t>> parse_uid_set(std::string_view set, std::size_t limit) {
    std::vector<std::uint64_t> out;
    if (set.empty()) return std::nullopt;
    std::size_t total = 0;
    while (true) {
        auto comma = set.find(',');
        std::string_view item = set.substr(0, comma);
        auto colon = item.find(':');
        std::optional<std::uint64_t> lo, hi;
        if (colon == std::string_view::npos) {
            lo = hi = parse_number(item);
        } else {
            lo = parse_number(item.substr(0, colon));
            hi = parse_number(item.substr(colon + 1));
        }
        if (!lo || !hi || *lo == 0 || *hi == 0) return std::nullopt;
        if (*lo > *hi) std::swap(lo, hi);  // "7:2" is the same range as "2:7" (RFC 3501 9)
        std::uint64_t n = *hi - *lo + 1;
        if (n > limit || total + n > limit) return std::nullopt;
        total += n;
        for (std::uint64_t u = *lo; u <= *hi; ++u) out.push_back(u);
        if (comma == std::string_view::npos) break;
        set.remove_prefix(comma + 1);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<std::vector<std::uint64_t>> parse_search(std::string_view response, std::size_t limit) {
    std::vector<std::uint64_t> uids;
    bool seen = false;
    for (auto line : split_lines(response)) {
        if (istarts_with(line, "* SEARCH") && (line.size() == 8 || line[8] == ' ')) {
            seen = true;
            for (auto tok : split_spaces(line.substr(8))) {
                if (tok.front() == '(') break;  // CONDSTORE "(MODSEQ n)" trailer
                auto n = parse_number(tok);
                if (!n || *n == 0) return std::nullopt;
                if (uids.size() >= limit) return std::nullopt;
                uids.push_back(*n);
            }
        } else if (istarts_with(line, "* ESEARCH") && (line.size() == 9 || line[9] == ' ')) {
            seen = true;
            std::string_view rest = line.substr(9);
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            if (!rest.empty() && rest.front() == '(') {  // search correlator: (TAG "A4")
                auto close = rest.find(')');
                if (close == std::string_view::npos) return std::nullopt;
                rest.remove_prefix(close + 1);
            }
            auto toks = split_spaces(rest);
            std::size_t i = 0;
            if (i < toks.size() && ascii_iequals(toks[i], "UID")) ++i;
            // Return data come as name/value pairs; only ALL carries UIDs, the rest are skipped.
            while (i < toks.size()) {
                if (i + 1 >= toks.size()) return std::nullopt;
                if (ascii_iequals(toks[i], "ALL")) {
                    auto set = parse_uid_set(toks[i + 1], limit - std::min(limit, uids.size()));
                    if (!set) return std::nullopt;
                    uids.insert(uids.end(), set->begin(), set->end());
                }
                i += 2;
            }
        }
    }
    if (!seen) return std::nullopt;
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    return uids;
}

std::vector<std::uint64_t> uids_after(const std::vector<std::uint64_t>& uids, std::uint64_t last) {
    std::vector<std::uint64_t> out;
    for (auto u : uids)
        if (u > last) out.push_back(u);
    return out;
}

std::string format_uid_set(std::vector<std::uint64_t> uids) {
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    std::string out;
    for (std::size_t i = 0; i < uids.size();) {
        std::size_t j = i;
        while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(uids[i]);
        if (j > i) out += ':' + std::to_string(uids[j]);
        i = j + 1;
    }
    return out;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
        if (h < 0 || l < 0) return std::nullopt;
        char c = static_cast<char>(h * 16 + l);
        if (c == '\0' || c == '\r' || c == '\n') return std::nullopt;
        out += c;
        i += 2;
    }
    return out;
}

}  // namespace

std::optional<ServerUrl> parse_server_url(std::string_view url) {
    ServerUrl out;
    std::string_view rest;
    if (istarts_with(url, "imaps://")) {
        out.tls = true;
        rest = url.substr(8);
    } else if (istarts_with(url, "imap://")) {
        rest = url.substr(7);
    } else {
        return std::nullopt;
    }
    if (rest.find_first_of("?#") != std::string_view::npos) return std::nullopt;
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    for (char c : authority)
        if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
            return std::nullopt;
    out.base = std::string(out.tls ? "imaps://" : "imap://") + std::string(authority);
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    // ";UIDVALIDITY=..." and friends are ours to add per request, not part of the account.
    if (path.find(';') != std::string_view::npos) return std::nullopt;
    if (path.empty()) {
        out.mailbox = "INBOX";
    } else {
        auto decoded = url_decode(path);
        if (!decoded || decoded->empty()) return std::nullopt;
        out.mailbox = *decoded;
    }
    return out;
}

std::string url_encode_mailbox(std::string_view mailbox) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : mailbox) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string imap_quote(std::string_view s) {
    bool atom = !s.empty();
    for (unsigned char c : s) {
        if (c <= ' ' || c >= 0x7f || std::string_view("(){%*\"\\]").find(static_cast<char>(c)) !=
                                           std::string_view::npos)
            atom = false;
    }
    if (atom) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') continue;
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

std::string server_url(const ServerUrl& s) { return s.base + "/"; }

std::string mailbox_url(const ServerUrl& s, std::string_view mailbox, std::uint64_t uidvalidity) {
    std::string url = s.base + "/" + url_encode_mailbox(mailbox);
    if (uidvalidity) url += ";UIDVALIDITY=" + std::to_string(uidvalidity);
    return url;
}

std::string fetch_url(const ServerUrl& s, std::string_view mailbox, std::uint64_t uidvalidity,
                      std::uint64_t uid) {
    // The "/" before ";UID" ends the mailbox part; libcurl wants it there.
    return mailbox_url(s, mailbox, uidvalidity) + "/;UID=" + std::to_string(uid);
}

std::string examine_command(std::string_view mailbox) { return "EXAMINE " + imap_quote(mailbox); }
std::string create_command(std::string_view mailbox) { return "CREATE " + imap_quote(mailbox); }

std::string search_command(std::uint64_t first_uid) {
    return "UID SEARCH RETURN (ALL) UID " + std::to_string(std::max<std::uint64_t>(first_uid, 1)) +
           ":*";
}

std::string search_since_command(int year, int month, int day, bool esearch) {
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::string date = std::to_string(day) + "-" + kMonths[(month - 1) % 12] + "-" +
                             std::to_string(year);
    return std::string(esearch ? "UID SEARCH RETURN (ALL) SINCE " : "UID SEARCH SINCE ") + date;
}

std::vector<std::string> search_windows(std::uint64_t first, std::uint64_t uidnext,
                                        std::uint64_t window) {
    first = std::max<std::uint64_t>(first, 1);
    if (uidnext == 0) return {std::to_string(first) + ":*"};
    std::vector<std::string> out;
    window = std::max<std::uint64_t>(window, 1);
    for (std::uint64_t lo = first; lo < uidnext && lo <= kMaxUid; lo += window) {
        std::uint64_t hi = std::min({lo + window - 1, uidnext - 1, kMaxUid});
        out.push_back(lo == hi ? std::to_string(lo) : std::to_string(lo) + ":" + std::to_string(hi));
    }
    return out;
}

std::string store_flags_command(const std::vector<std::uint64_t>& uids, std::string_view flags) {
    return "UID STORE " + format_uid_set(uids) + " +FLAGS.SILENT (" + std::string(flags) + ")";
}

std::string move_command(const std::vector<std::uint64_t>& uids, std::string_view folder) {
    return "UID MOVE " + format_uid_set(uids) + " " + imap_quote(folder);
}

std::string uid_expunge_command(const std::vector<std::uint64_t>& uids) {
    return "UID EXPUNGE " + format_uid_set(uids);
}

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
    std::string out(text);
    // scheme://user:password@host -> scheme://user:***@host
    for (std::size_t pos = 0; (pos = out.find("://", pos)) != std::string::npos;) {
        std::size_t start = pos + 3;
        std::size_t end = out.find_first_of("/ \t\r\n\"'>", start);
        if (end == std::string::npos) end = out.size();
        std::size_t at = out.rfind('@', end);
        if (at != std::string::npos && at >= start) {
            std::size_t colon = out.find(':', start);
            if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
        }
        pos = start;
    }
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        for (std::size_t pos = 0; (pos = out.find(secret, pos)) != std::string::npos;) {
            out.replace(pos, secret.size(), "***");
            pos += 3;
        }
    }
    return out;
}

std::string log_safe(std::string_view text, std::size_t max) {
    std::string out;
    for (char c : text.substr(0, max)) {
        unsigned char u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    if (text.size() > max) out += "...";
    return out;
}

}  // namespace ticketd::mail
