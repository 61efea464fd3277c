#include "parsers/bounce.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parsers/body.h"
#include "parsers/charset.h"
#include "parsers/find_simd.h"
#include "parsers/html.h"
#include "parsers/textutil.h"

namespace ticketd::parsers {
namespace {

// Short needles in short report lines: no libc call per line and per first-byte hit.
using simd::contains;
using text::find_header;
using text::leaf_text;
using text::lower;
using text::starts_with;
using text::trim;

// Reports put the human-readable part first; the evidence is in the first few kilobytes and
// reading less keeps classification linear and cheap on huge bodies.
constexpr std::size_t kScanBytes = 32 * 1024;

bool is_dsn_type(std::string_view ct) {
    return ct == "message/delivery-status" || ct == "message/global-delivery-status";
}
bool is_feedback_type(std::string_view ct) { return ct == "message/feedback-report"; }
bool is_headers_type(std::string_view ct) {
    return ct == "text/rfc822-headers" || ct == "message/rfc822-headers" || ct == "message/global-headers";
}

// The message's own Content-Type as written (compared ignoring case by its readers, not
// lower-cased into a copy for every message).
std::string_view top_content_type(const Message& m) {
    const Header* h = find_header(m, "Content-Type");
    return h ? std::string_view(h->value) : std::string_view();
}

// MAILER-DAEMON, postmaster and the display names MTAs give themselves.
bool daemon_sender(const Message& m, std::string* why) {
    static constexpr auto locals = std::to_array<std::string_view>(
        {"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster", "post_master", "mail-daemon",
         "maildaemon", "double-bounce"});
    // Compared ignoring case in place (the names are lower-case): no lower-cased copies of the
    // sender's address, name and From field for every message.
    auto local_is_daemon = [&](std::string_view addr) {
        const std::string_view local = addr.substr(0, addr.find('@'));
        for (std::string_view l : locals)
            if (text::iequals(local, l)) return true;
        return false;
    };
    const auto has = [](std::string_view s, std::string_view lower_needle) {
        return simd::find_lower(s, lower_needle) != std::string_view::npos;
    };
    for (const Address& a : m.from) {
        if (local_is_daemon(a.address)) {
            *why = "From: " + a.address;
            return true;
        }
        if (has(a.name, "mail delivery") || has(a.name, "mailer-daemon") || has(a.name, "mailer daemon")) {
            *why = "From: \"" + a.name + "\"";
            return true;
        }
    }
    // Some MTAs write a bare "From: MAILER-DAEMON" that yields no address at all.
    if (const Header* h = find_header(m, "From")) {
        if (has(h->value, "mailer-daemon") || has(h->value, "mail delivery s")) {
            *why = "From: " + std::string(trim(h->value));
            return true;
        }
    }
    return false;
}

bool null_sender(const Message& m) {
    if (m.has_return_path && m.return_path.empty()) return true;
    if (const Header* h = find_header(m, "Return-Path")) {
        std::string_view v = trim(h->value);
        if (v.empty() || v == "<>" || v == "< >") return true;
    }
    if (const Header* h = find_header(m, "From")) {
        std::string_view v = trim(h->value);
        if (v == "<>") return true;
    }
    return false;
}

// The set of byte values in `s`, each folded to one of 64 bits: a string's set holds that of
// every substring.
constexpr std::uint64_t byte_set(std::string_view s) {
    std::uint64_t m = 0;
    for (char c : s) m |= std::uint64_t{1} << (static_cast<unsigned char>(c) & 63);
    return m;
}

bool reply_or_forward_subject(std::string_view s) {
    static constexpr auto prefixes = std::to_array<std::string_view>(
        {"re:", "re :", "fwd:", "fw:", "aw:", "wg:", "tr:", "rv:", "sv:", "vs:", "antw:"});
    for (std::string_view p : prefixes)
        if (starts_with(s, p)) return true;
    return false;
}

// Subjects MTAs give their reports (English and the languages big providers localise into).
const char* bounce_subject(std::string_view s) {
    static constexpr auto patterns = std::to_array<std::string_view>({
        "undeliverable", "undelivered mail", "undelivered message", "delivery status notification",
        "mail delivery failed", "mail delivery failure", "delivery failure", "failure notice",
        "failure delivery", "failed delivery", "delivery has failed", "returned mail",
        "mail system error", "delayed mail", "delivery delayed", "delivery notification",
        "non-delivery", "nondeliverable", "non remis", "could not be delivered",
        "error sending your mail", "permanent delivery failure", "message not delivered",
        "delivery status", "bounce notification", "unzustellbar", "nicht zustellbar",
        "unable to deliver", "onbestelbaar", "no se puede entregar", "impossibile recapitare",
        "não entregue", "kan inte levereras", "warning: message", "mail could not be delivered"});
    // A pattern is in `s` only if each of its byte values is (folded to 64 bits, one set per
    // string): one AND rules most patterns out for most subjects, instead of a search each.
    static constexpr auto pattern_bytes = [] {
        std::array<std::uint64_t, patterns.size()> sets{};
        for (std::size_t k = 0; k < patterns.size(); ++k) sets[k] = byte_set(patterns[k]);
        return sets;
    }();
    const std::uint64_t missing = ~byte_set(s);
    for (std::size_t k = 0; k < patterns.size(); ++k)
        if ((pattern_bytes[k] & missing) == 0 && contains(s, patterns[k])) return patterns[k].data();
    return nullptr;
}

// Sentences only MTAs write: enough, with a bounce subject, even without a machine sender.
const char* mta_sentence(std::string_view b) {
    static constexpr auto phrases = std::to_array<std::string_view>({
        "this is the qmail-send program",
        "this message was created automatically by mail delivery software",
        "i'm sorry to have to inform you that your message could not",
        "i'm sorry to have to inform you that the message returned",
        "i'm afraid i wasn't able to deliver your message",
        "transcript of session follows",
        "the original message was received at",
        "the following addresses had permanent fatal errors",
        "the following addresses had delivery problems",
        "delivery has failed to these recipients or groups",
        "delivery to the following recipient failed permanently",
        "delivery to the following recipients failed",
        "this is an automatically generated delivery status notification",
        "below this line is a copy of the message",
        "a message that you sent could not be delivered to one or more of its recipients",
        "message that you sent has not yet been delivered to one or more of its recipients",
        "your message could not be delivered to one or more recipients",
        "this is the mail system at host",
        "this is the postfix program at host",
        "delivery attempts will continue to be made",
        "there was an error sending your mail",
        "reporting-mta:"});
    for (std::string_view p : phrases)
        if (contains(b, p)) return p.data();
    return nullptr;
}

// Words delivery reports use, but so does a customer whose parcel went astray: they count only
// from a machine sender (MAILER-DAEMON, postmaster, null Return-Path).
const char* bounce_phrase(std::string_view b) {
    if (const char* p = mta_sentence(b)) return p;
    static constexpr auto phrases = std::to_array<std::string_view>({
        "delivery to the following recipient", "your message could not be delivered",
        "your message wasn't delivered", "your message was not delivered", "message could not be delivered",
        "could not be delivered to", "couldn't be delivered", "was not delivered to",
        "undeliverable to the following", "a message that you sent could not be delivered",
        "has not yet been delivered", "unable to deliver your message", "unable to deliver the message",
        "was undeliverable", "delivery failed", "delivery to these recipients or groups",
        "permanent error", "permanently rejected", "mailbox unavailable", "user unknown", "no such user",
        "recipient address rejected", "was rejected", "returned to sender", "failed recipient",
        "failed to deliver", "delivery status notification", "could not deliver",
        "message delivery has failed", "mail delivery failed", "the following message to",
        "will be retried", "still being retried", "error-mail", "sua mensagem não",
        "ihre nachricht konnte nicht", "votre message n'a pas pu", "su mensaje no pudo"});
    for (std::string_view p : phrases)
        if (contains(b, p)) return p.data();
    return nullptr;
}

bool encloses_message(const Message& m) {
    if (!m.forwarded.empty()) return true;
    for (const Leaf& l : m.leaves)
        if (l.in_rfc822 || is_headers_type(l.content_type) || l.content_type == "message/rfc822") return true;
    return false;
}

std::string strip_angles(std::string_view v) {
    v = trim(v);
    if (!v.empty() && v.front() == '<') v.remove_prefix(1);
    if (!v.empty() && v.back() == '>') v.remove_suffix(1);
    return std::string(trim(v));
}

bool addr_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' ||
           c == '=' || c == '\'' || c == '/' || c == '!';
}
bool domain_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }

// Addresses written in a line of text (local@domain.tld), in order.
std::vector<std::string> addresses_in(std::string_view line) {
    std::vector<std::string> out;
    for (std::size_t at = line.find('@'); at != std::string_view::npos; at = line.find('@', at + 1)) {
        std::size_t b = at;
        while (b > 0 && addr_char(line[b - 1])) --b;
        std::size_t e = at + 1;
        while (e < line.size() && domain_char(line[e])) ++e;
        while (e > at + 1 && line[e - 1] == '.') --e;
        std::string_view local = line.substr(b, at - b);
        std::string_view domain = line.substr(at + 1, e - at - 1);
        while (!local.empty() && local.front() == '.') local.remove_prefix(1);
        if (local.empty() || domain.find('.') == std::string_view::npos) continue;
        out.push_back(std::string(local) + "@" + std::string(domain));
    }
    return out;
}

// "5.1.1": class 2/4/5, then two numbers, not part of a longer dotted run (an IP address).
std::string find_status(std::string_view t) {
    // The class digit stands before a '.': visit the dots (memchr) rather than every byte.
    for (std::size_t dot = t.find('.', 1); dot != std::string_view::npos && dot + 3 < t.size();
         dot = t.find('.', dot + 1)) {
        const std::size_t i = dot - 1;
        char c = t[i];
        if (c != '2' && c != '4' && c != '5') continue;
        if (i > 0 && (std::isdigit(static_cast<unsigned char>(t[i - 1])) || t[i - 1] == '.')) continue;
        std::size_t j = i + 2, d1 = 0;
        while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j])) && d1 < 4) { ++j; ++d1; }
        if (d1 == 0 || d1 > 3 || j >= t.size() || t[j] != '.') continue;
        std::size_t k = j + 1, d2 = 0;
        while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k])) && d2 < 4) { ++k; ++d2; }
        if (d2 == 0 || d2 > 3) continue;
        if (k < t.size() && (std::isdigit(static_cast<unsigned char>(t[k])) || (t[k] == '.' && k + 1 < t.size() &&
                                                                               std::isdigit(static_cast<unsigned char>(t[k + 1])))))
            continue;
        return std::string(t.substr(i, k - i));
    }
    return {};
}

/// The class ('4' or '5') of the first SMTP reply code in `l` ("4xy " / "5xy-" not inside a
/// word), or 0. One pass over the bytes: find_first_of("45") called memchr over the two-byte
/// set once per byte of the line (a thousand instructions a report line, callgrind).
char smtp_reply_class(std::string_view l) {
    const auto digit = [&](std::size_t k) { return std::isdigit(static_cast<unsigned char>(l[k])) != 0; };
    // A code at i: its class digit, two digits, ' ' or '-', and no letter or digit before it.
    const auto code_at = [&](std::size_t i) {
        return digit(i + 1) && digit(i + 2) && (l[i + 3] == ' ' || l[i + 3] == '-') &&
               (i == 0 || !std::isalnum(static_cast<unsigned char>(l[i - 1])));
    };
    std::size_t i = 0;
#if defined(__SSE2__)
    // The class digits of 16 bytes at once ('4' is 0x34, '5' 0x35: or-ing 1 makes both '5').
    const auto* p = reinterpret_cast<const unsigned char*>(l.data());
    for (; i + 16 + 3 <= l.size(); i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(1)), _mm_set1_epi8('5'))));
        for (; m != 0; m &= m - 1) {
            const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(m));
            if (code_at(at)) return l[at];
        }
    }
#endif
    for (; i + 3 < l.size(); ++i)
        if ((static_cast<unsigned char>(l[i]) | 1) == '5' && code_at(i)) return l[i];
    return 0;
}

bool has_smtp_reply_code(std::string_view l) { return smtp_reply_class(l) != 0; }

// Drops a UTF-8 sequence cut short at the end of `s` by a byte limit: what is cut here goes to
// JSON and the store, which need valid UTF-8 (found by fuzz_parse).
void drop_partial_utf8(std::string& s) {
    std::size_t i = s.size(), cont = 0;
    while (i > 0 && cont < 3 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i, ++cont;
    if (i == 0) return;
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    const std::size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (lead >= 0xC0 && cont < need) s.resize(i - 1);
}

// Where the run of non-blank bytes (text::space_char) that starts at i ends.
std::size_t blank_from(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
    // Sixteen bytes at a time: diagnostics are runs of words and single spaces.
    for (; i + 16 <= s.size(); i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        const auto eq = [&](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
        const __m128i blank = _mm_or_si128(_mm_or_si128(_mm_or_si128(eq(' '), eq('\t')), _mm_or_si128(eq('\n'), eq('\v'))),
                                           _mm_or_si128(eq('\f'), eq('\r')));
        if (const auto m = static_cast<unsigned>(_mm_movemask_epi8(blank))) return i + static_cast<std::size_t>(__builtin_ctz(m));
    }
#endif
    while (i < s.size() && !text::space_char(s[i])) ++i;
    return i;
}

std::string collapse(std::string_view s, std::size_t max) {
    // Written through a pointer: the output is never longer than the input, nor than max + 1 (a
    // space and a byte may pass max together). Each run of non-blank bytes is copied at once, up
    // to where the byte-by-byte copy stopped: the first byte that reached max.
    std::string r(s.size() <= max ? s.size() : max + 1, '\0');
    char* const begin = r.data();
    char* o = begin;
    bool space = false;
    for (std::size_t i = 0; i < s.size();) {
        if (text::space_char(s[i])) {
            space = o != begin;
            ++i;
            continue;
        }
        if (space) *o++ = ' ';
        space = false;
        const std::size_t end = blank_from(s, i + 1);
        const auto written = static_cast<std::size_t>(o - begin);
        const std::size_t take = std::min(end - i, written < max ? max - written : 1);
        std::memcpy(o, s.data() + i, take);
        o += take;
        i += take;
        if (static_cast<std::size_t>(o - begin) >= max) break;
    }
    r.resize(static_cast<std::size_t>(o - begin));
    if (r.size() >= max) drop_partial_utf8(r);
    return r;
}

// text::lower into `out` (a buffer the caller reuses): the same bytes, eight at a time.
std::string_view lower_into(std::string_view s, std::string& out) {
    out.resize(s.size());
    char* const p = out.data();
    const std::size_t n = s.size();
    std::size_t i = 0;
    std::uint64_t w;
    for (; i + 8 <= n; i += 8) {
        std::memcpy(&w, s.data() + i, 8);
        w = text::lower_word(w);
        std::memcpy(p + i, &w, 8);
    }
    for (; i < n; ++i) p[i] = text::lower_char(s[i]);
    return std::string_view(p, n);
}

// Whether lower(text)[b, e) contains `needle` (lower-case), for lines met in order (b never
// decreases): the first occurrence at or after the last search's start is kept, and the text is
// searched again only when a line starts past it, or past the window last searched without one.
class SearchAhead {
public:
    SearchAhead(std::string_view text, std::string_view needle) : text_(text), needle_(needle) {}
    bool in(std::size_t b, std::size_t e) {
        if (at_ == std::string_view::npos ? e > clear_to_ : at_ < b) {
            // A window, not the rest of the text: the loop that asks stops after a few lines of
            // a report of kilobytes, most often.
            const std::size_t limit = std::min(text_.size(), std::max(e, b + kWindow));
            at_ = simd::find_lower(text_.substr(0, limit), needle_, b);
            clear_to_ = limit;  // no occurrence starts in [b, at_) and ends by `limit`
        }
        return at_ != std::string_view::npos && at_ + needle_.size() <= e;
    }

private:
    static constexpr std::size_t kWindow = 1024;
    std::string_view text_, needle_;
    std::size_t at_ = std::string_view::npos;  // the kept occurrence (npos: none up to clear_to_)
    std::size_t clear_to_ = 0;
};

// Lines that begin the returned copy of the original: what follows is not the report.
// `s`: the line trimmed and lower-cased; `below`, `message`: whether it contains "below this
// line is a copy" and "message" (read_bounce knows them from its searches of the report).
bool starts_returned_copy(std::string_view s, bool below, bool message) {
    // Both header names start with 'r': most lines are spared the two compares.
    const bool r = !s.empty() && s.front() == 'r';
    if ((r && (starts_with(s, "return-path:") || starts_with(s, "received:"))) || below) return true;
    // Every other sign names the message: most report lines do not, and are spared seven searches.
    if (!message) return false;
    return contains(s, "original message follows") ||
           contains(s, "this is a copy of the message") || contains(s, "original message headers") ||
           starts_with(s, "------ original message") || contains(s, "returned message follows") ||
           contains(s, "unsent message below") || contains(s, "message headers follow");
}

// A Message-ID header line inside quoted or returned text: "Message-ID: <x@y>".
std::string message_id_in(std::string_view t, std::string_view own) {
    std::size_t pos = 0;
    while (pos < t.size()) {
        std::size_t nl = t.find('\n', pos);
        if (nl == std::string_view::npos) nl = t.size();
        std::string_view line = t.substr(pos, nl - pos);
        pos = nl + 1;
        std::string_view l = trim(line);
        while (!l.empty() && (l.front() == '>' || l.front() == ' ')) l.remove_prefix(1);
        // Exchange's DSNs name the original as X-Original-Message-ID.
        std::size_t skip = 0;
        if (l.size() >= 11 && text::iequals(l.substr(0, 11), "message-id:")) skip = 11;
        else if (l.size() >= 22 && text::iequals(l.substr(0, 22), "x-original-message-id:")) skip = 22;
        if (skip == 0) continue;
        std::string_view v = trim(l.substr(skip));
        if (v.empty() && nl < t.size()) {  // folded onto the next line
            std::size_t nl2 = t.find('\n', pos);
            v = trim(t.substr(pos, (nl2 == std::string_view::npos ? t.size() : nl2) - pos));
        }
        std::size_t lt = v.find('<'), gt = v.find('>', lt == std::string_view::npos ? 0 : lt);
        std::string id = (lt != std::string_view::npos && gt != std::string_view::npos)
                             ? std::string(v.substr(lt + 1, gt - lt - 1))
                             : strip_angles(v);
        // Some MTAs write ids without '@' or brackets; anything word-like is still the key.
        bool wordlike = id.size() >= 6 && id.size() < 1000 &&
                        std::none_of(id.begin(), id.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
        if (wordlike && id != own) return id;
    }
    return {};
}

}  // namespace

DsnFields parse_delivery_status(std::string_view t) {
    DsnFields f;
    // A real report names a handful of recipients; a hostile one must not cost more than this.
    constexpr std::size_t kMaxDsnBytes = 1u << 20;
    constexpr std::size_t kMaxRecipients = 1000;
    if (t.size() > kMaxDsnBytes) t = t.substr(0, kMaxDsnBytes);
    // Unfold, then read "Name: value" fields; a blank line ends a recipient group.
    struct Group {
        std::string final_rcpt, orig_rcpt, action, status, diagnostic;
    };
    std::vector<Group> groups(1);
    std::string_view name;  // of the field being read (a view of `t`)
    std::string value;      // its value, continuation lines appended
    auto commit = [&]() {
        if (name.empty()) return;
        // Only five fields matter: the others (Reporting-MTA, Arrival-Date, ...) cost no copy.
        enum { kOther, kFinal, kOriginal, kAction, kStatus, kDiagnostic } field = kOther;
        if (text::iequals(name, "final-recipient")) field = kFinal;
        else if (text::iequals(name, "original-recipient")) field = kOriginal;
        else if (text::iequals(name, "action")) field = kAction;
        else if (text::iequals(name, "status")) field = kStatus;
        else if (text::iequals(name, "diagnostic-code")) field = kDiagnostic;
        if (field != kOther) {
            Group& g = groups.back();
            const std::string_view v = trim(value);
            auto after_type = [](std::string_view s) {
                std::size_t semi = s.find(';');
                return semi == std::string_view::npos ? s : trim(s.substr(semi + 1));
            };
            if (field == kFinal) g.final_rcpt = strip_angles(after_type(v));
            else if (field == kOriginal) g.orig_rcpt = strip_angles(after_type(v));
            else if (field == kAction) g.action = lower(v);
            else if (field == kStatus) g.status = find_status(v);
            else g.diagnostic = collapse(after_type(v), 500);
        }
        name = {};
        value.clear();
    };
    std::size_t pos = 0;
    while (pos < t.size()) {
        std::size_t nl = t.find('\n', pos);
        if (nl == std::string_view::npos) nl = t.size();
        std::string_view line = t.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) {
            commit();
            if (!groups.back().final_rcpt.empty() || !groups.back().action.empty() || !groups.back().status.empty())
                groups.emplace_back();
            continue;
        }
        if (line.front() == ' ' || line.front() == '\t') {
            value += ' ';
            value += trim(line);
            continue;
        }
        commit();
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        name = trim(line.substr(0, colon));
        value.assign(line.substr(colon + 1));
    }
    commit();
    for (const Group& g : groups) {
        if (g.final_rcpt.empty() && g.orig_rcpt.empty() && g.status.empty() && g.action.empty()) continue;
        bool failed = g.action == "failed" || (!g.status.empty() && g.status[0] == '5');
        bool delayed = g.action == "delayed" || (!g.status.empty() && g.status[0] == '4');
        bool success = g.action == "delivered" || g.action == "relayed" || g.action == "expanded";
        if (success && !failed) continue;
        if (failed || delayed || g.action.empty()) {
            std::string r = !g.final_rcpt.empty() ? g.final_rcpt : g.orig_rcpt;
            if (!r.empty() && f.recipients.size() < kMaxRecipients) f.recipients.push_back(r);
            if (f.status.empty()) f.status = g.status;
            if (f.diagnostic.empty()) f.diagnostic = g.diagnostic;
            if (f.action.empty()) f.action = g.action;
            f.any_failed = f.any_failed || failed;
        }
    }
    return f;
}

BounceReport::BounceReport(const Message& m) {
    for (const Leaf& l : m.leaves) {
        if (l.in_rfc822 || !l.is_text) continue;
        if (l.content_type == "text/plain") {
            text_ = l.text().substr(0, kScanBytes);
        } else if (l.content_type == "text/html") {
            converted_ = html_to_text(l.text().substr(0, kScanBytes * 4));
            text_ = converted_;
        } else {
            continue;
        }
        if (!trim(text_).empty()) return;
    }
    text_ = std::string_view(m.body).substr(0, kScanBytes);
}

std::string_view BounceReport::lowered() {
    if (!have_lowered_) {
        lowered_ = lower(text_);
        have_lowered_ = true;
    }
    return lowered_;
}

std::string bounce_report_text(const Message& m) { return std::string(BounceReport(m).text()); }

BounceVerdict detect_bounce(const Message& m) {
    BounceReport report(m);
    return detect_bounce(m, report);
}

BounceVerdict detect_bounce(const Message& m, std::string_view report) {
    BounceReport r(report);
    return detect_bounce(m, r);
}

namespace {

// The Amazon SES test: 'b' when lower(s) with its white space (std::isspace) removed contains
// "notificationtype":"bounce", else 'c' when it contains "notificationtype":"complaint", else 0;
// without building the compacted copy of up to 32 KiB, nor the lower-cased one, for every
// message. One pass over the '"'s of `s` for both (they differ only after the common prefix,
// and most reports hold neither: two passes read the report twice).
char ses_notification(std::string_view s) {
    constexpr std::string_view kPrefix = "\"notificationtype\":\"";
    // Whether `p` follows from s[j] on (white space in s skipped, letters compared lower-cased).
    const auto rest_matches = [s](std::size_t j, std::string_view p) {
        std::size_t k = 0;
        while (k < p.size() && j < s.size()) {
            const char c = s[j++];
            if (text::space_char(c)) continue;
            if (text::lower_char(c) != p[k]) break;
            ++k;
        }
        return k == p.size();
    };
    bool complaint = false;
    for (std::size_t i = s.find('"'); i != std::string_view::npos; i = s.find('"', i + 1)) {
        std::size_t j = i, k = 0;
        while (k < kPrefix.size() && j < s.size()) {
            const char c = s[j++];
            if (text::space_char(c)) continue;
            if (text::lower_char(c) != kPrefix[k]) break;
            ++k;
        }
        if (k < kPrefix.size()) continue;
        if (rest_matches(j, "bounce\"")) return 'b';
        complaint = complaint || rest_matches(j, "complaint\"");
    }
    return complaint ? 'c' : 0;
}

}  // namespace

BounceVerdict detect_bounce(const Message& m, BounceReport& report) {
    const std::string_view ct = top_content_type(m);
    constexpr std::string_view kReport = "multipart/report";
    if (ct.size() >= kReport.size() && text::iequals(ct.substr(0, kReport.size()), kReport)) {
        if (simd::find_lower(ct, "delivery-status") != std::string_view::npos)
            return {true, "multipart/report; report-type=delivery-status"};
        if (simd::find_lower(ct, "feedback-report") != std::string_view::npos)
            return {true, "multipart/report; report-type=feedback-report (ARF)"};
    }
    for (const Leaf& l : m.leaves) {
        if (l.in_rfc822) continue;
        if (is_dsn_type(l.content_type)) return {true, "a " + l.content_type + " part"};
        if (is_feedback_type(l.content_type)) return {true, "a message/feedback-report part (ARF)"};
    }
    if (const Header* h = find_header(m, "X-Failed-Recipients")) {
        std::string v(trim(h->value));
        if (v.size() > 200) v.resize(200), drop_partial_utf8(v);
        return {true, "X-Failed-Recipients: " + v};
    }

    std::string subject = lower(trim(m.subject));
    bool replyish = reply_or_forward_subject(subject);
    const char* subj = replyish ? nullptr : bounce_subject(subject);
    std::string who;
    bool daemon = daemon_sender(m, &who);
    bool null = null_sender(m);

    // The phrase scans read up to 32 KiB each: only when their answer is used.
    if (daemon || null) {
        const char* phrase = subj ? nullptr : bounce_phrase(report.lowered());
        if (subj || phrase) {
            std::string r = daemon ? who : std::string("Return-Path: <>");
            r += subj ? std::string(", subject says \"") + subj + "\"" : std::string(", body says \"") + phrase + "\"";
            return {true, r};
        }
    }
    if (null && encloses_message(m)) return {true, "Return-Path: <> and the original message returned"};
    if (const char* mta = subj ? mta_sentence(report.lowered()) : nullptr) {
        return {true, std::string("subject says \"") + subj + "\", body says \"" + mta + "\""};
    }
    // Amazon SES delivers bounce and complaint notifications as SNS JSON.
    const char ses = ses_notification(report.text());
    if (ses == 'b') return {true, "SES notification: Bounce"};
    if (ses == 'c') return {true, "SES notification: Complaint"};
    // Hotmail/Outlook.com's junk-mail reporting (JMRP) encloses the reported message.
    if (starts_with(subject, "complaint about message from") && encloses_message(m))
        return {true, "feedback report (\"complaint about message from\")"};
    return {};
}

BounceInfo read_bounce(const Message& m) {
    BounceReport report(m);
    return read_bounce(m, report);
}

BounceInfo read_bounce(const Message& m, std::string_view report) {
    BounceReport r(report);
    return read_bounce(m, r);
}

BounceInfo read_bounce(const Message& m, BounceReport& r) {
    BounceInfo info;
    DsnFields dsn;
    for (const Leaf& l : m.leaves) {
        if (l.in_rfc822 || !is_dsn_type(l.content_type)) continue;
        DsnFields f = parse_delivery_status(leaf_text(l));
        for (std::string& r : f.recipients)
            if (dsn.recipients.size() < 1000) dsn.recipients.push_back(std::move(r));
        if (dsn.status.empty()) dsn.status = f.status;
        if (dsn.diagnostic.empty()) dsn.diagnostic = f.diagnostic;
        if (dsn.action.empty()) dsn.action = f.action;
        dsn.any_failed = dsn.any_failed || f.any_failed;
    }

    // The original's Message-ID: from the returned message, its headers, or quoted lines.
    for (const Forwarded& f : m.forwarded)
        if (!f.message_id.empty()) { info.original_message_id = f.message_id; break; }
    // Then the returned headers wherever the MTA (or a broken boundary) put them: the forward's
    // raw bytes, rfc822-headers parts, other message/* parts, the report text.
    for (const Forwarded& f : m.forwarded) {
        if (!info.original_message_id.empty()) break;
        std::string_view raw(f.raw);
        std::size_t body = raw.find("\n\n");
        info.original_message_id = message_id_in(raw.substr(0, std::min(body, 4 * kScanBytes)), m.message_id);
    }
    auto scan_leaves = [&](auto&& wanted) {
        for (const Leaf& l : m.leaves) {
            if (!info.original_message_id.empty()) return;
            if (!wanted(l)) continue;
            info.original_message_id =
                message_id_in(leaf_text(l).substr(0, 4 * kScanBytes), m.message_id);
        }
    };
    scan_leaves([](const Leaf& l) { return is_headers_type(l.content_type); });
    scan_leaves([](const Leaf& l) { return !l.in_rfc822 && starts_with(l.content_type, "message/"); });
    scan_leaves([](const Leaf& l) { return !l.in_rfc822 && starts_with(l.content_type, "text/"); });
    if (info.original_message_id.empty()) {
        // Some MTAs say which message they report on the usual way.
        if (!m.in_reply_to.empty()) info.original_message_id = m.in_reply_to.front();
        else if (!m.references.empty()) info.original_message_id = m.references.back();
    }

    // Recipients: the DSN, X-Failed-Recipients, else the addresses the report text singles out.
    info.failed_recipients = dsn.recipients;
    for (const Header& h : m.headers) {
        if (!text::iequals(h.name, "X-Failed-Recipients")) continue;
        for (std::string& a : addresses_in(h.value))
            if (info.failed_recipients.size() < 1000) info.failed_recipients.push_back(std::move(a));
    }
    std::vector<std::string> own;
    for (const auto* list : {&m.from, &m.to, &m.cc, &m.sender, &m.reply_to})
        for (const Address& a : *list) own.push_back(lower(a.address));
    auto is_own = [&](const std::string& a) {
        std::string la = lower(a);
        for (const std::string& o : own)
            if (o == la) return true;
        std::string local = la.substr(0, la.find('@'));
        return local == "mailer-daemon" || local == "postmaster";
    };

    std::string body_status, body_diag;
    {
        const std::string_view report = r.text();
        // The loop stops at the returned copy, most often in the first lines of a report of
        // kilobytes: unless detect_bounce lower-cased the whole report already, only the lines
        // that need it are lower-cased (into one reused buffer), not the whole report.
        const bool whole = r.has_lowered();
        const std::string_view lowered = whole ? r.lowered() : std::string_view();  // `report`'s offsets
        std::string line_lowered;
        // The needles every line is searched for are searched for in the report instead, a window
        // at a time, and each occurrence is kept until the lines pass it: a line contains one
        // iff the first occurrence at or after the line's start ends within the line.
        SearchAhead below(report, "below this line is a copy"), message(report, "message"), said(report, "said:");
        std::size_t pos = 0;
        bool want = info.failed_recipients.empty();
        while (pos < report.size()) {
            std::size_t nl = report.find('\n', pos);
            if (nl == std::string_view::npos) nl = report.size();
            std::string_view line(report.data() + pos, nl - pos);
            pos = nl + 1;
            const std::string_view t = trim(line);
            const auto b = static_cast<std::size_t>(t.data() - report.data()), e = b + t.size();
            std::string_view lt;  // t lower-cased, made when first needed
            bool have_lt = false;
            const auto lower_t = [&]() {
                if (!have_lt) lt = whole ? lowered.substr(b, t.size()) : lower_into(t, line_lowered);
                have_lt = true;
                return lt;
            };
            // starts_returned_copy holds only for a line starting with 'r' or holding one of the
            // two needles (searched for in the report): the rest are spared the lower-casing and
            // the test.
            const bool has_below = below.in(b, e), has_message = message.in(b, e);
            if (((!t.empty() && (t.front() == 'r' || t.front() == 'R')) || has_below || has_message) &&
                starts_returned_copy(lower_t(), has_below, has_message))
                break;
            if (body_status.empty()) body_status = find_status(t);
            if (body_diag.empty() && (has_smtp_reply_code(t) || said.in(b, e)))
                body_diag = collapse(t, 500);
            if (!want || t.empty()) continue;
            if (t.find('@') == std::string_view::npos) continue;  // no address to take (addresses_in)
            lower_t();
            // A recipient line: "<addr>:", "<addr>...", an indented bare address, or
            // "delivered to addr".
            bool indented = !line.empty() && (line.front() == ' ' || line.front() == '\t');
            bool marked = t.front() == '<' || indented || contains(lt, "...") ||
                          contains(lt, "delivered to") || contains(lt, "recipient") ||
                          contains(lt, "failed") || contains(lt, "address") || contains(lt, "unknown") ||
                          contains(lt, "rejected") || contains(lt, "does not exist") || contains(lt, "no such") ||
                          contains(lt, "mailbox") || contains(lt, "error") || has_smtp_reply_code(t);
            // "please contact <postmaster@...>" points at a helper, not a failed recipient.
            if (contains(lt, "contact") || contains(lt, "from:") || contains(lt, "sender")) marked = false;
            if (!marked) continue;
            for (std::string& a : addresses_in(t)) {
                if (is_own(a)) continue;
                bool dup = false;
                for (const std::string& r : info.failed_recipients)
                    if (text::iequals(r, a)) dup = true;
                if (!dup && info.failed_recipients.size() < 50) info.failed_recipients.push_back(a);
            }
        }
    }

    // ARF (RFC 5965): who complained is the recipient the report is about.
    for (const Leaf& l : m.leaves) {
        if (l.in_rfc822 || !is_feedback_type(l.content_type)) continue;
        std::string_view t = leaf_text(l);
        std::size_t pos = 0;
        while (pos < t.size()) {
            std::size_t nl = t.find('\n', pos);
            if (nl == std::string_view::npos) nl = t.size();
            std::string_view line = trim(t.substr(pos, nl - pos));
            pos = nl + 1;
            std::string ll = lower(line);
            if (starts_with(ll, "original-rcpt-to:") || starts_with(ll, "removal-recipient:")) {
                for (std::string& a : addresses_in(line))
                    if (info.failed_recipients.size() < 50) info.failed_recipients.push_back(std::move(a));
            } else if (starts_with(ll, "feedback-type:") && dsn.diagnostic.empty()) {
                dsn.diagnostic = collapse(line, 200);
            }
        }
    }

    info.status = !dsn.status.empty() ? dsn.status : body_status;
    info.diagnostic = !dsn.diagnostic.empty() ? dsn.diagnostic : body_diag;
    std::string subject = lower(m.subject);
    // The SMTP reply code of the diagnostic ("421 ... Deferred") when no RFC 3463 status.
    const char reply_class = smtp_reply_class(info.diagnostic);
    if (!info.status.empty()) {
        info.permanent = info.status[0] != '4' && info.status[0] != '2';
    } else if (reply_class) {
        info.permanent = reply_class == '5';
    } else if (dsn.action == "delayed") {
        info.permanent = false;
    } else {
        info.permanent = !(contains(subject, "delay") || contains(subject, "warning") || contains(subject, "retr"));
    }
    if (dsn.action == "delayed" && !dsn.any_failed) info.permanent = false;
    // The report's fields are raw bytes (an 8-bit delivery-status part, a header value); what
    // BounceInfo hands on goes to the store and to JSON, so it must be UTF-8 (found by fuzz_parse).
    info.original_message_id = sanitize_utf8(info.original_message_id);
    for (std::string& r : info.failed_recipients) r = sanitize_utf8(r);
    info.status = sanitize_utf8(info.status);
    info.diagnostic = sanitize_utf8(info.diagnostic);
    return info;
}

}  // namespace ticketd::parsers
