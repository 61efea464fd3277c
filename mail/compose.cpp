#include "mail/compose.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <functional>
#include <set>

namespace ticketd::mail {

namespace {

constexpr std::size_t kFoldAt = 78;            // RFC 5322 2.1.1: SHOULD be no more than 78
constexpr std::size_t kMaxEncodedWord = 75;    // RFC 2047 2
constexpr std::string_view kWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kWordSuffix = "?=";
// 45 bytes encode to 60 base64 characters: 10 + 60 + 2 = 72 <= 75. 46 or 47 bytes would need 64.
constexpr std::size_t kBytesPerWord = (kMaxEncodedWord - 12) / 4 * 3;

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (i + 1 == in.size()) {
        std::uint32_t v = std::uint8_t(in[i]) << 16;
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

/// Length of the valid UTF-8 sequence at s[i], 0 when the bytes there are not one.
std::size_t utf8_seq(std::string_view s, std::size_t i) {
    const auto c = std::uint8_t(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((std::uint8_t(s[i + k]) & 0xc0) != 0x80) return 0;
    if (n == 2 && c < 0xc2) return 0;  // overlong
    return n;
}

/// Valid UTF-8 (invalid bytes become U+FFFD): the part says charset=UTF-8, so it must be.
std::string valid_utf8(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        std::size_t n = utf8_seq(in, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(in.substr(i, n));
            i += n;
        }
    }
    return out;
}

/// One line of header text: valid UTF-8 (anything else becomes U+FFFD), no control characters
/// (CR, LF, NUL and the rest become spaces), whitespace runs collapsed, trimmed.
std::string header_text(std::string_view in) {
    const std::string text = valid_utf8(in);
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {  // bytes >= 0x80 are parts of valid sequences: kept as they are
        if (c < 0x20 || c == 0x7f) c = ' ';
        if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
        out += static_cast<char>(c);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

bool is_ascii_printable(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

/// Encoded words for `text` (already header_text): each at most 75 characters, cut only at
/// UTF-8 character boundaries.
std::vector<std::string> encoded_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t end = i;
        while (end < text.size()) {
            std::size_t n = std::max<std::size_t>(1, utf8_seq(text, end));
            if (end + n - i > kBytesPerWord) break;
            end += n;
        }
        if (end == i) end = i + 1;  // unreachable for valid UTF-8; never loop forever
        words.push_back(std::string(kWordPrefix) + base64(text.substr(i, end - i)) + std::string(kWordSuffix));
        i = end;
    }
    return words;
}

std::vector<std::string> split_spaces(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        auto sp = s.find(' ', i);
        if (sp == std::string_view::npos) sp = s.size();
        if (sp > i) out.emplace_back(s.substr(i, sp - i));
        i = sp + 1;
    }
    return out;
}

/// A word can go as it is: printable ASCII, not something a decoder would take for an encoded
/// word, and short enough to sit on a folded line.
bool plain_word(std::string_view w) {
    return is_ascii_printable(w) && w.find("=?") == std::string_view::npos && w.size() <= 900;
}

/// Atoms of unstructured text: plain words as they are, each run of words that needs encoding
/// as encoded words (the spaces inside the run go inside the words: whitespace between two
/// encoded words is not part of the text).
std::vector<std::string> unstructured_atoms(std::string_view value) {
    std::vector<std::string> atoms;
    auto words = split_spaces(header_text(value));
    for (std::size_t i = 0; i < words.size();) {
        if (plain_word(words[i])) {
            atoms.push_back(words[i++]);
            continue;
        }
        std::string run = words[i++];
        while (i < words.size() && !plain_word(words[i])) run += " " + words[i++];
        for (auto& w : encoded_words(run)) atoms.push_back(std::move(w));
    }
    return atoms;
}

/// "Name:" and the atoms separated by single spaces, folded (CRLF before a space) so lines stay
/// within 78 characters where the atoms allow. Ends with CRLF.
std::string fold(std::string_view name, const std::vector<std::string>& atoms) {
    std::string out(name);
    out += ':';
    std::size_t line = out.size();
    bool first = true;
    for (const auto& a : atoms) {
        if (!first && line + 1 + a.size() > kFoldAt) {
            out += "\r\n";
            line = 0;
        }
        out += ' ';
        out += a;
        line += 1 + a.size();
        first = false;
    }
    out += "\r\n";
    return out;
}

bool atext(unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return atext(c) || c == '.'; });
}

std::string quoted_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

/// Atoms of a display name: atoms as they are, quoted when it has specials, encoded words when
/// it is not ASCII.
std::vector<std::string> phrase_atoms(std::string_view name) {
    std::string text = header_text(name);
    if (text.empty()) return {};
    if (!is_ascii_printable(text) || text.size() > 900) return encoded_words(text);
    auto words = split_spaces(text);
    bool all_atoms = std::all_of(words.begin(), words.end(), [](const std::string& w) {
        return w.find("=?") == std::string::npos &&
               std::all_of(w.begin(), w.end(), [](unsigned char c) { return atext(c); });
    });
    if (all_atoms) return words;
    return {quoted_string(text)};
}

/// A Message-ID without brackets, made safe: printable ASCII other than '<', '>' and spaces.
std::string msg_id(std::string_view id) {
    std::string out;
    for (unsigned char c : id)
        if (c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"' && c != '\\') out += static_cast<char>(c);
    return out;
}

std::string sanitize_content_type(std::string_view ct) {
    std::string s;
    for (unsigned char c : ct) {
        if (c == ';') break;
        if (c > 0x20 && c < 0x7f) s += static_cast<char>(std::tolower(c));
    }
    auto slash = s.find('/');
    auto token = [](std::string_view t) {
        return !t.empty() && std::all_of(t.begin(), t.end(), [](unsigned char c) {
            return std::isalnum(c) || std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
        });
    };
    if (slash == std::string::npos || !token(std::string_view(s).substr(0, slash)) ||
        !token(std::string_view(s).substr(slash + 1)))
        return "application/octet-stream";
    return s;
}

/// Text as lines ending in CRLF: any CR, LF or CRLF is a line end; NUL is dropped.
std::string crlf_text(std::string_view in) {
    std::string out;
    out.reserve(in.size() + in.size() / 32 + 2);
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else if (c != '\0') {
            out += c;
        }
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}


/// Headers and body of one text part, choosing the transfer encoding: 7bit for short ASCII
/// lines, quoted-printable for mostly-ASCII text, base64 when most bytes are not ASCII (CJK,
/// Cyrillic: QP would triple their size).
std::string text_part(std::string_view subtype, std::string_view body) {
    const std::string text = crlf_text(valid_utf8(body));
    std::size_t high = 0, longest = 0, line = 0;
    bool controls = false;
    for (unsigned char c : text) {
        if (c >= 0x80) ++high;
        else if (c < 0x20 && c != '\r' && c != '\n' && c != '\t') controls = true;
        if (c == '\n') line = 0;
        else longest = std::max(longest, ++line);
    }
    std::string out = "Content-Type: text/" + std::string(subtype) + "; charset=UTF-8\r\n";
    if (high == 0 && !controls && longest <= 78) {
        out += "Content-Transfer-Encoding: 7bit\r\n\r\n" + text;
    } else if (high * 3 > text.size()) {
        out += "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(text);
    } else {
        out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quoted_printable(text);
    }
    return out;
}

/// A boundary that occurs in none of `parts`. "=_" appears neither in base64 nor in
/// quoted-printable output; only a 7bit text part could hold it, and then the next one is taken.
std::string boundary(const OutgoingMail& m, std::string_view level, const std::vector<std::string>& parts) {
    for (std::size_t n = 0;; ++n) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(m.message_id + m.subject + std::to_string(n)));
        std::string b = "=_ticketd_" + std::string(level) + "_" + hex;
        if (std::none_of(parts.begin(), parts.end(), [&](const std::string& p) { return p.find(b) != std::string::npos; }))
            return b;
    }
}

std::string attachment_part(const OutgoingAttachment& a) {
    std::string ct = sanitize_content_type(a.content_type);
    std::string out = "Content-Type: " + ct + "\r\n";
    out += "Content-Disposition: attachment;\r\n " + filename_parameter(a.filename) + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += base64_lines(a.data);
    return out;
}

/// Field names ticketd writes itself; extras may not repeat or replace them.
const std::set<std::string>& reserved_fields() {
    static const std::set<std::string> names{
        "date", "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "message-id",
        "in-reply-to", "references", "auto-submitted", "x-auto-response-suppress", "mime-version",
        "content-type", "content-transfer-encoding", "content-disposition", "return-path"};
    return names;
}

bool field_name(std::string_view n) {
    return !n.empty() && n.size() <= 76 &&
           std::all_of(n.begin(), n.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f && c != ':'; });
}

}  // namespace

std::string addr_spec(std::string_view address) {
    std::string a;
    for (unsigned char c : address)
        if (c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != ',' && c != ';' && c != '"' && c != '\\')
            a += static_cast<char>(c);
    auto at = a.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == a.size()) return {};
    std::string local = a.substr(0, at), domain = a.substr(at + 1);
    if (domain.find('@') != std::string::npos || domain.front() == '.' || domain.back() == '.') return {};
    if (!dot_atom(local)) local = quoted_string(local);
    return local + "@" + domain;
}

std::string unstructured_field(std::string_view name, std::string_view value) {
    return fold(name, unstructured_atoms(value));
}

std::string address_field(std::string_view name, const std::vector<Mailbox>& boxes) {
    std::vector<std::string> atoms;
    for (const auto& b : boxes) {
        std::string spec = addr_spec(b.address);
        if (spec.empty()) continue;  // nothing deliverable left: better absent than malformed
        if (!atoms.empty()) atoms.back() += ',';
        auto phrase = phrase_atoms(b.name);
        if (phrase.empty()) {
            atoms.push_back(spec);
        } else {
            atoms.insert(atoms.end(), phrase.begin(), phrase.end());
            atoms.push_back("<" + spec + ">");
        }
    }
    if (atoms.empty()) return {};
    return fold(name, atoms);
}

std::string rfc5322_date(std::chrono::sys_seconds t) {
    std::time_t tt = t.time_since_epoch().count();
    std::tm tm{};
    gmtime_r(&tt, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string base64_lines(std::string_view data) {
    const std::string b = base64(data);
    std::string out;
    out.reserve(b.size() + b.size() / 76 * 2 + 2);
    for (std::size_t i = 0; i < b.size(); i += 76) {
        out.append(b, i, 76);
        out += "\r\n";
    }
    return out;
}

std::string quoted_printable(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t eol = text.find("\r\n", pos);
        const bool last = eol == std::string_view::npos;
        std::string_view line = text.substr(pos, last ? std::string_view::npos : eol - pos);
        if (last && line.empty()) break;
        std::size_t col = 0;
        for (std::size_t i = 0; i < line.size(); ++i) {
            unsigned char c = line[i];
            const bool at_end = i + 1 == line.size();
            std::string unit;
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end))
                unit.assign(1, static_cast<char>(c));
            else
                unit = {'=', hex[c >> 4], hex[c & 15]};
            // 76 characters per line at most, counting the '=' of a soft break.
            if (col + unit.size() > (at_end ? 76u : 75u)) {
                out += "=\r\n";
                col = 0;
            }
            out += unit;
            col += unit.size();
        }
        if (last) break;
        out += "\r\n";
        pos = eol + 2;
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}

std::string filename_parameter(std::string_view filename) {
    std::string name = header_text(filename);
    // A name is a name, not a path: some clients would otherwise honour the directories.
    if (auto slash = name.find_last_of("/\\"); slash != std::string::npos) name = name.substr(slash + 1);
    if (name.empty()) name = "attachment";
    const bool simple = is_ascii_printable(name) && name.size() <= 60 &&
                        name.find_first_of("\"\\") == std::string::npos;
    if (simple) return "filename=" + quoted_string(name);
    // RFC 2231: charset'language'percent-encoded, cut into continuations between escapes.
    static const char* hex = "0123456789ABCDEF";
    std::vector<std::string> pieces(1);
    for (unsigned char c : name) {
        std::string unit;
        if (std::isalnum(c) || std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos)
            unit.assign(1, static_cast<char>(c));
        else
            unit = {'%', hex[c >> 4], hex[c & 15]};
        if (pieces.back().size() + unit.size() > 60) pieces.emplace_back();
        pieces.back() += unit;
    }
    if (pieces.size() == 1) return "filename*=UTF-8''" + pieces[0];
    std::string out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (i) out += ";\r\n ";
        out += "filename*" + std::to_string(i) + "*=" + (i == 0 ? "UTF-8''" : "") + pieces[i];
    }
    return out;
}

std::string compose(const OutgoingMail& m) {
    std::string out;
    out += "Date: " + rfc5322_date(m.date) + "\r\n";
    out += address_field("From", {m.from});
    out += address_field("To", m.to);
    if (!m.cc.empty()) out += address_field("Cc", m.cc);
    if (m.reply_to) out += address_field("Reply-To", {*m.reply_to});
    out += unstructured_field("Subject", m.subject);
    if (auto id = msg_id(m.message_id); !id.empty()) out += "Message-ID: <" + id + ">\r\n";
    auto ids = [](const std::vector<std::string>& v) {
        std::vector<std::string> atoms;
        for (const auto& i : v)
            if (auto s = msg_id(i); !s.empty()) atoms.push_back("<" + s + ">");
        return atoms;
    };
    if (auto a = ids(m.in_reply_to); !a.empty()) out += fold("In-Reply-To", a);
    if (auto a = ids(m.references); !a.empty()) out += fold("References", a);
    switch (m.auto_submitted) {
        case AutoSubmitted::none: break;
        case AutoSubmitted::auto_replied: out += "Auto-Submitted: auto-replied\r\n"; break;
        case AutoSubmitted::auto_generated: out += "Auto-Submitted: auto-generated\r\n"; break;
    }
    // Exchange and Outlook honour this, not Auto-Submitted: no out-of-office answer to our mail.
    if (m.auto_submitted != AutoSubmitted::none) out += "X-Auto-Response-Suppress: All\r\n";
    for (const auto& [name, value] : m.extra_headers) {
        std::string lower(name);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (!field_name(name) || reserved_fields().count(lower)) continue;
        out += unstructured_field(name, value);
    }
    out += "MIME-Version: 1.0\r\n";

    std::string body;
    if (m.html.empty()) {
        body = text_part("plain", m.text);
    } else {
        std::vector<std::string> parts{text_part("plain", m.text), text_part("html", m.html)};
        const std::string b = boundary(m, "alt", parts);
        body = "Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n\r\n";
        for (const auto& p : parts) body += "--" + b + "\r\n" + p;
        body += "--" + b + "--\r\n";
    }
    if (m.attachments.empty()) return out + body;
    std::vector<std::string> parts{std::move(body)};
    for (const auto& a : m.attachments) parts.push_back(attachment_part(a));
    const std::string b = boundary(m, "mix", parts);
    out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n";
    for (const auto& p : parts) out += "--" + b + "\r\n" + p;
    out += "--" + b + "--\r\n";
    return out;
}

}  // namespace ticketd::mail
