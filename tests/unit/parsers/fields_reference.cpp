// The header, charset and transfer decoders as they were before their fast paths (parsers/headers.cpp,
// charset.cpp and transfer.cpp at e8a68db, verbatim but for this namespace): the reference the
// generated-input tests in test_fields_fast.cpp hold the fast paths to. Test-only code; do not "fix"
// it without fixing the parsers the same way.

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "fields_reference.h"

namespace ticketd::parsers::reference {

// ---------------------------------------------------------------- parsers/charset.cpp


using namespace std::string_view_literals;

namespace {

std::string lower_trim(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    }
    return out;
}

/// One iconv descriptor per target charset and thread: iconv_open costs far more than a
/// short conversion, and parse() runs on any thread.
class IconvCache {
public:
    ~IconvCache() {
        for (auto& [name, cd] : map_)
            if (cd != reinterpret_cast<iconv_t>(-1)) iconv_close(cd);
    }
    /// (iconv_t)-1 when iconv does not know the charset.
    iconv_t get(const std::string& from) {
        auto it = map_.find(from);
        if (it != map_.end()) {
            if (it->second != reinterpret_cast<iconv_t>(-1)) iconv(it->second, nullptr, nullptr, nullptr, nullptr);
            return it->second;
        }
        iconv_t cd = iconv_open("UTF-8", from.c_str());
        if (map_.size() < 256) map_.emplace(from, cd);
        else if (cd != reinterpret_cast<iconv_t>(-1)) {
            // Too many distinct labels (hostile input): do not grow; the caller closes nothing,
            // so keep one slot for it by replacing the cache wholesale.
            for (auto& [name, old] : map_)
                if (old != reinterpret_cast<iconv_t>(-1)) iconv_close(old);
            map_.clear();
            map_.emplace(from, cd);
        }
        return cd;
    }

private:
    std::map<std::string, iconv_t> map_;
};

IconvCache& cache() {
    thread_local IconvCache c;
    return c;
}

void append_replacement(std::string& out) { out += "\xEF\xBF\xBD"; }

void append_codepoint(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// Run iconv over all of `in`; an invalid byte becomes U+FFFD. False when `cd` is bad.
bool run_iconv(iconv_t cd, std::string_view in, std::string& out, bool& exact) {
    if (cd == reinterpret_cast<iconv_t>(-1)) return false;
    out.clear();
    out.reserve(in.size() + in.size() / 2 + 16);
    char* src = const_cast<char*>(in.data());
    std::size_t left = in.size();
    char buf[8192];
    while (left > 0) {
        char* dst = buf;
        std::size_t room = sizeof buf;
        const std::size_t rc = iconv(cd, &src, &left, &dst, &room);
        out.append(buf, static_cast<std::size_t>(dst - buf));
        if (rc != static_cast<std::size_t>(-1)) continue;
        if (errno == E2BIG) continue;
        exact = false;
        if (errno == EILSEQ) {
            append_replacement(out);
            ++src;
            --left;
            iconv(cd, nullptr, nullptr, nullptr, nullptr);
            continue;
        }
        // EINVAL: a sequence cut short at the very end (odd byte of UTF-16, half a multibyte
        // character): dropped, it carries no character.
        break;
    }
    // Flush stateful encodings (ISO-2022-JP back to ASCII).
    char* dst = buf;
    std::size_t room = sizeof buf;
    iconv(cd, nullptr, nullptr, &dst, &room);
    out.append(buf, static_cast<std::size_t>(dst - buf));
    return true;
}

/// windows-1252 to UTF-8 by table, as glibc's CP1252 converter maps it (a unit test compares
/// all 256 bytes with iconv), with its five unassigned bytes passed through as the C1 controls
/// of the same value (as browsers do; `exact` turns false). iconv cost about 20 instructions a
/// byte here, most of it on ASCII runs this copies eight bytes at a time; it was 16% of parse()
/// over the corpus (callgrind), for the few large text parts that are not UTF-8.
std::string windows1252(std::string_view in, bool& exact) {
    // U+0080..U+009F as windows-1252 assigns them; 0 for 0x81, 0x8D, 0x8F, 0x90, 0x9D.
    static constexpr unsigned short c1[32] = {
        0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
    // The UTF-8 of every byte packed in one word: its bytes in the low three bytes (stored four
    // at a time, the fourth overwritten by what follows), its length in bits 24-26, bit 31 set
    // when windows-1252 leaves the byte unassigned.
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (unsigned b = 0; b < 0x100; ++b) {
            const bool c1_byte = b >= 0x80 && b < 0xA0;
            const unsigned cp = c1_byte && c1[b - 0x80] ? c1[b - 0x80] : b;
            std::string u;
            append_codepoint(u, cp);
            std::uint32_t e = static_cast<std::uint32_t>(u.size()) << 24;
            for (std::size_t k = 0; k < u.size(); ++k) e |= static_cast<std::uint32_t>(static_cast<unsigned char>(u[k])) << (8 * k);
            if (c1_byte && !c1[b - 0x80]) e |= 0x80000000u;
            t[b] = e;
        }
        return t;
    }();
    std::string out;
    out.reserve(in.size() + in.size() / 2 + 16);
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t n = in.size();
    // Output goes through a small buffer; each byte is a table word stored without branches,
    // which matters on the binary data mislabelled as text that reaches here (ASCII and 8-bit
    // bytes interleaved made a branchy loop mispredict on most bytes). ASCII words go eight at
    // a time; a word with an 8-bit byte goes through the table whole (binary data has one in
    // nearly every word: testing each byte's word again cost as much as converting it).
    char buf[4096 + 32];
    std::size_t used = 0;
    std::uint32_t flags = 0;
    std::size_t i = 0;
    auto put = [&](unsigned char b) {
        const std::uint32_t e = table[b];
        __builtin_memcpy(buf + used, &e, 4);
        used += (e >> 24) & 7;
        flags |= e;
    };
    while (i + 8 <= n) {
        if (used > 4096) {
            out.append(buf, used);
            used = 0;
        }
        std::uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        if (!(w & 0x8080808080808080ULL)) {
            __builtin_memcpy(buf + used, p + i, 8);
            used += 8;
        } else {
            for (int k = 0; k < 8; ++k) put(p[i + k]);
        }
        i += 8;
    }
    if (used > 4096) {
        out.append(buf, used);
        used = 0;
    }
    for (; i < n; ++i) put(p[i]);
    out.append(buf, used);
    if (flags & 0x80000000u) exact = false;
    return out;
}

std::string windows1252(std::string_view in) {
    bool exact = true;
    return windows1252(in, exact);
}

/// Invalid UTF-8 declared as UTF-8: keep the valid sequences, replace the rest.
std::string repair_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = i;
        // find the longest valid prefix quickly by checking one sequence at a time
        const auto c = static_cast<unsigned char>(s[j]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            append_replacement(out);
            ++i;
        }
    }
    return out;
}

/// At least one well-formed multi-byte UTF-8 sequence.
bool has_utf8_multibyte(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0xC2) continue;
        const std::size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) return true;
    }
    return false;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        // Fast path for ASCII runs.
        while (i + 8 <= n) {
            std::uint64_t w;
            __builtin_memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (p[i + 1] & 0xC0) != 0x80) return false;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (p[i + 1] & 0xC0) != 0x80 || (p[i + 2] & 0xC0) != 0x80) return false;
            if (c == 0xE0 && p[i + 1] < 0xA0) return false;  // overlong
            if (c == 0xED && p[i + 1] > 0x9F) return false;  // surrogate
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (p[i + 1] & 0xC0) != 0x80 || (p[i + 2] & 0xC0) != 0x80 ||
                (p[i + 3] & 0xC0) != 0x80)
                return false;
            if (c == 0xF0 && p[i + 1] < 0x90) return false;
            if (c == 0xF4 && p[i + 1] > 0x8F) return false;
            i += 4;
        } else {
            return false;
        }
    }
    return true;
}

bool looks_like_iso2022jp(std::string_view s) {
    for (std::size_t i = s.find('\x1b'); i != std::string_view::npos && i + 2 < s.size();
         i = s.find('\x1b', i + 1)) {
        const char a = s[i + 1], b = s[i + 2];
        if ((a == '$' && (b == 'B' || b == '@' || b == '(')) || (a == '(' && (b == 'B' || b == 'J' || b == 'I')))
            return true;
    }
    return false;
}

std::string iconv_charset_name(std::string_view label) {
    std::string l = lower_trim(label);
    // "charset*lang" from RFC 2231 / RFC 2047 language suffix.
    if (auto star = l.find('*'); star != std::string::npos) l.resize(star);
    if (l.empty() || l == "us-ascii"sv || l == "ascii"sv || l == "us_ascii"sv || l == "ansi_x3.4-1968"sv ||
        l == "unknown-8bit"sv || l == "x-unknown"sv || l == "unknown"sv || l == "default"sv ||
        l == "x-user-defined"sv || l == "8bit"sv || l == "7bit"sv || l == "none"sv || l == "charset"sv)
        return "";
    struct Alias {
        const char* from;
        const char* to;
    };
    static const Alias aliases[] = {
        {"utf8", "UTF-8"},
        {"utf-8", "UTF-8"},
        {"unicode-1-1-utf-7", "UTF-7"},
        {"utf7", "UTF-7"},
        {"ks_c_5601-1987", "CP949"},
        {"ks_c_5601", "CP949"},
        {"ksc5601", "CP949"},
        {"ksc_5601", "CP949"},
        {"euc-kr", "CP949"},
        {"x-sjis", "CP932"},
        {"shift_jis", "CP932"},
        {"shift-jis", "CP932"},
        {"sjis", "CP932"},
        {"ms_kanji", "CP932"},
        {"windows-31j", "CP932"},
        {"gb2312", "GB18030"},
        {"gbk", "GB18030"},
        {"x-gbk", "GB18030"},
        {"cn-gb", "GB18030"},
        {"euc-cn", "GB18030"},
        {"x-euc-cn", "GB18030"},
        {"big5", "BIG5-HKSCS"},
        {"x-big5", "BIG5-HKSCS"},
        {"iso-8859-8-i", "ISO-8859-8"},
        {"iso-8859-6-i", "ISO-8859-6"},
        {"iso-8859-1", "WINDOWS-1252"},
        {"iso8859-1", "WINDOWS-1252"},
        {"iso_8859-1", "WINDOWS-1252"},
        {"latin1", "WINDOWS-1252"},
        {"latin-1", "WINDOWS-1252"},
        {"l1", "WINDOWS-1252"},
        {"iso-ir-100", "WINDOWS-1252"},
        {"cp819", "WINDOWS-1252"},
        {"x-mac-roman", "MACINTOSH"},
        {"macintosh", "MACINTOSH"},
        {"x-mac-cyrillic", "MAC-CYRILLIC"},
        {"x-cp1250", "CP1250"},
        {"x-cp1251", "CP1251"},
        {"x-cp1252", "CP1252"},
        {"iso-2022-jp-2", "ISO-2022-JP-2"},
        {"iso-2022-jp", "ISO-2022-JP"},
        {"csiso2022jp", "ISO-2022-JP"},
        {"tis-620", "CP874"},
        {"windows-874", "CP874"},
        {"iso-8859-11", "CP874"},
        {"x-euc-jp", "EUC-JP"},
        {"x-euc", "EUC-JP"},
        {"euc-jp", "EUC-JP"},
        {"koi8r", "KOI8-R"},
        {"ascii-8bit", ""},
    };
    for (const auto& a : aliases)
        if (l == a.from) return a.to;
    // "windows-1252", "cp1252", "iso-8859-15", "koi8-u", ... are iconv names already;
    // "win-1251" and "cp-1251" spellings are not.
    if (l.rfind("win-", 0) == 0) return "WINDOWS-" + l.substr(4);
    if (l.rfind("cp-", 0) == 0) return "CP" + l.substr(3);
    if (l.rfind("iso8859-", 0) == 0) return "ISO-8859-" + l.substr(8);
    if (l.rfind("iso_8859-", 0) == 0) return "ISO-8859-" + l.substr(9);
    if (l.rfind("iso8859", 0) == 0 && l.size() > 7) return "ISO-8859-" + l.substr(7);
    std::string up;
    for (char c : l) up.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
    return up;
}

namespace {

/// to_utf8 and to_utf8_or_same: `copy_same` false leaves `text` empty (and sets `same`) where
/// the UTF-8 is the input itself.
Converted convert(std::string_view bytes, std::string_view charset, bool copy_same) {
    Converted r;
    auto same = [&] {
        if (copy_same) r.text.assign(bytes);
        else r.same = true;
    };
    std::string name = iconv_charset_name(charset);
    // Escape sequences are unambiguous: undeclared or mislabelled ISO-2022-JP (zammad#2498).
    if ((name.empty() || name == "UTF-8"sv || name == "WINDOWS-1252"sv) && looks_like_iso2022jp(bytes) &&
        std::none_of(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        name = "ISO-2022-JP";
    }
    if (name == "UTF-8"sv || name.empty()) {
        if (is_valid_utf8(bytes)) {
            same();
            return r;
        }
        if (name == "UTF-8"sv && has_utf8_multibyte(bytes)) {
            // Real UTF-8 with some damage (it has valid multi-byte characters): keep those and
            // replace the broken bytes. Without any, the label is wrong: windows-1252 below.
            r.exact = false;
            r.text = repair_utf8(bytes);
            return r;
        }
        r.text = windows1252(bytes);
        r.exact = false;
        return r;
    }
    // Pure ASCII in an ASCII-compatible charset is already UTF-8: skip iconv (most mail).
    if (std::none_of(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }) &&
        name.rfind("UTF-16", 0) != 0 && name.rfind("UTF-32", 0) != 0 && name.rfind("UCS", 0) != 0 &&
        name.rfind("UTF-7", 0) != 0 && name.rfind("ISO-2022", 0) != 0 && name.rfind("HZ", 0) != 0 &&
        bytes.find('\x1b') == std::string_view::npos && bytes.find('\0') == std::string_view::npos) {
        same();
        return r;
    }
    bool exact = true;
    if (name == "WINDOWS-1252"sv) {
        r.text = windows1252(bytes, exact);
        r.exact = exact;
        return r;
    }
    iconv_t cd = cache().get(name);
    if (run_iconv(cd, bytes, r.text, exact)) {
        r.exact = exact;
        return r;
    }
    // Unknown charset label: UTF-8 if valid, else windows-1252.
    r.exact = false;
    if (is_valid_utf8(bytes)) same();
    else r.text = windows1252(bytes);
    return r;
}

}  // namespace

Converted to_utf8(std::string_view bytes, std::string_view charset) { return convert(bytes, charset, true); }

Converted to_utf8_or_same(std::string_view bytes, std::string_view charset) { return convert(bytes, charset, false); }

bool looks_binary(std::string_view bytes, std::string_view charset) {
    const std::string_view probe = bytes.substr(0, kBinaryProbeBytes);
    // file(1)'s text_chars table: 0x07-0x0D and 0x1B are text; SO/SI (0x0E/0x0F) added. A table
    // and a sum, no branch: this reads up to 8,000 bytes of every text part.
    static constexpr auto kNonText = [] {
        std::array<unsigned char, 256> t{};
        for (int c = 0; c < 0x07; ++c) t[c] = 1;
        for (int c = 0x10; c < 0x20; ++c) t[c] = c != 0x1b;
        t[0x7f] = 1;
        return t;
    }();
    std::size_t odd = 0;
    for (const char ch : probe) odd += kNonText[static_cast<unsigned char>(ch)];
    // Compressed or random bytes have about 9% of these (23 values of 256), headers of binary
    // formats far more; text has next to none (a stray NUL happens: the share decides).
    if (odd < 2 || odd * 32 <= probe.size()) return false;
    // Wide Unicode holds NULs and low bytes by design: declared, or announced by a byte order
    // mark (UTF-32LE's starts like UTF-16LE's, so FF FE covers both). Looked at only here, for
    // the few parts that failed the scan.
    if (probe.substr(0, 2) == "\xff\xfe" || probe.substr(0, 2) == "\xfe\xff" ||
        probe.substr(0, 4) == std::string_view("\0\0\xfe\xff", 4))
        return false;
    const std::string name = iconv_charset_name(charset);
    return name.rfind("UTF-16", 0) != 0 && name.rfind("UTF-32", 0) != 0 && name.rfind("UCS", 0) != 0;
}

std::string sanitize_utf8(std::string_view bytes) {
    // ISO-2022-JP is 7-bit (valid UTF-8 as bytes): its escapes must be looked for first.
    if (looks_like_iso2022jp(bytes)) return to_utf8(bytes, "").text;
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return windows1252(bytes);
}


// ---------------------------------------------------------------- parsers/transfer.cpp


namespace {

constexpr std::array<std::int8_t, 256> make_b64_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) v = -1;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kB64 = make_b64_table();

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Decoded decode_base64(std::string_view in) {
    Decoded out;
    // Written through a pointer into a buffer sized for the worst case, trimmed at the end:
    // push_back per byte was a visible share of parse time on large attachments.
    out.data.resize(in.size() / 4 * 3 + 3);
    char* w = out.data.data();
    std::uint32_t acc = 0;
    int n = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const std::size_t size = in.size();
    for (std::size_t i = 0; i < size; ++i) {
        if (n == 0) {
            // Whole quanta of four alphabet bytes (nearly all of a body: 19 per 76-byte line)
            // go four at a time; anything else (line ends, padding, junk) byte by byte below.
            while (i + 4 <= size) {
                const int a = kB64[p[i]], b = kB64[p[i + 1]], c = kB64[p[i + 2]], d = kB64[p[i + 3]];
                if ((a | b | c | d) < 0) break;
                const std::uint32_t q = (static_cast<std::uint32_t>(a) << 18) | (static_cast<std::uint32_t>(b) << 12) |
                                        (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
                w[0] = static_cast<char>((q >> 16) & 0xff);
                w[1] = static_cast<char>((q >> 8) & 0xff);
                w[2] = static_cast<char>(q & 0xff);
                w += 3;
                i += 4;
            }
            if (i >= size) break;
        }
        const unsigned char c = p[i];
        const int v = kB64[c];
        if (v >= 0) {
            acc = (acc << 6) | static_cast<std::uint32_t>(v);
            if (++n == 4) {
                *w++ = static_cast<char>((acc >> 16) & 0xff);
                *w++ = static_cast<char>((acc >> 8) & 0xff);
                *w++ = static_cast<char>(acc & 0xff);
                acc = 0;
                n = 0;
            }
            continue;
        }
        if (c == '=') {
            // Padding flushes a partial quantum; decoding goes on after it, which recovers
            // concatenated base64 blocks written by broken mailers. A lone sextet (n == 1)
            // carries no full byte.
            if (n == 2) {
                *w++ = static_cast<char>((acc >> 4) & 0xff);
            } else if (n == 3) {
                *w++ = static_cast<char>((acc >> 10) & 0xff);
                *w++ = static_cast<char>((acc >> 2) & 0xff);
            }
            acc = 0;
            n = 0;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') continue;
        out.ok = false;
        break;
    }
    // An unpadded tail (n == 2 or 3) is dropped: a truncated or junk-ended body leaves a
    // fragment that is more likely noise than data, and other parsers agree on dropping it.
    out.data.resize(static_cast<std::size_t>(w - out.data.data()));
    return out;
}

std::string decode_qp(std::string_view in) {
    std::string out(in.size(), '\0');  // decoding never grows the text
    char* w = out.data();
    const std::size_t n = in.size();
    std::size_t i = 0;
    while (i < n) {
        // Copy the run up to the next '=' in one go.
        const void* eq = std::memchr(in.data() + i, '=', n - i);
        const std::size_t stop = eq ? static_cast<std::size_t>(static_cast<const char*>(eq) - in.data()) : n;
        std::memcpy(w, in.data() + i, stop - i);
        w += stop - i;
        i = stop;
        if (i >= n) break;
        // Soft line break: "=" then optional blanks then a line end (or the end of input).
        std::size_t j = i + 1;
        while (j < n && is_blank(in[j])) ++j;
        if (j >= n) break;
        if (in[j] == '\r' || in[j] == '\n') {
            if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') ++j;
            i = j + 1;
            continue;
        }
        if (i + 2 < n) {
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                *w++ = static_cast<char>(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        *w++ = '=';  // not an escape: kept literally
        ++i;
    }
    out.resize(static_cast<std::size_t>(w - out.data()));
    return out;
}

std::string decode_q(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && i + 2 < in.size() &&
                   hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

Decoded decode_uuencode(std::string_view in, std::string* filename) {
    Decoded out;
    std::size_t pos = 0;
    bool begun = false;
    auto next_line = [&](std::string_view& line) {
        if (pos >= in.size()) return false;
        std::size_t e = in.find('\n', pos);
        if (e == std::string_view::npos) e = in.size();
        line = in.substr(pos, e - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = e + 1;
        return true;
    };
    std::string_view line;
    while (next_line(line)) {
        if (!begun) {
            if (line.substr(0, 6) == "begin ") {
                begun = true;
                if (filename) {
                    // "begin 644 name with spaces"
                    std::string_view rest = line.substr(6);
                    const auto sp = rest.find(' ');
                    *filename = sp == std::string_view::npos ? std::string() : std::string(rest.substr(sp + 1));
                }
            }
            continue;
        }
        if (line == "end" || line.substr(0, 3) == "end") break;
        if (line.empty()) continue;
        const int len = (static_cast<unsigned char>(line[0]) - 32) & 63;
        if (len == 0) continue;
        int produced = 0;
        for (std::size_t i = 1; produced < len; i += 4) {
            auto sextet = [&](std::size_t k) -> unsigned {
                return k < line.size() ? ((static_cast<unsigned char>(line[k]) - 32) & 63) : 0;
            };
            const unsigned a = sextet(i), b = sextet(i + 1), c = sextet(i + 2), d = sextet(i + 3);
            const unsigned char bytes[3] = {static_cast<unsigned char>((a << 2) | (b >> 4)),
                                            static_cast<unsigned char>((b << 4) | (c >> 2)),
                                            static_cast<unsigned char>((c << 6) | d)};
            for (int k = 0; k < 3 && produced < len; ++k, ++produced) out.data.push_back(static_cast<char>(bytes[k]));
            if (i > line.size() + 4) break;
        }
    }
    out.ok = begun;
    return out;
}


// ---------------------------------------------------------------- parsers/headers.cpp


std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
}

std::string_view trim(std::string_view s) {
    // By hand: find_first_not_of looks each byte up in the set with a call (trim runs on every
    // header value and parameter).
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct EncodedWord {
    std::size_t end = 0;  // one past "?="
    std::string charset;
    std::string bytes;
};

/// Parse "=?charset?E?text?=" at `pos`. Tolerates spaces inside the text (a common mailer
/// bug) but not across another "=?" start, and a missing "?=" at the very end of the value.
std::optional<EncodedWord> parse_encoded_word(std::string_view s, std::size_t pos) {
    if (s.compare(pos, 2, "=?") != 0) return std::nullopt;
    const std::size_t cs_begin = pos + 2;
    const std::size_t q1 = s.find('?', cs_begin);
    if (q1 == std::string_view::npos || q1 == cs_begin || q1 - cs_begin > 64) return std::nullopt;
    std::string_view cs = s.substr(cs_begin, q1 - cs_begin);
    if (cs.find_first_of(" \t\r\n\"(),;<>") != std::string_view::npos) return std::nullopt;
    if (q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
    const char enc = s[q1 + 1];
    if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return std::nullopt;
    const std::size_t text_begin = q1 + 3;
    std::size_t text_end = s.find("?=", text_begin);
    std::size_t end;
    if (text_end == std::string_view::npos) {
        // Unterminated word at the end of the field: accept if no blank follows.
        if (s.substr(text_begin).find_first_of(" \t") != std::string_view::npos) return std::nullopt;
        text_end = s.size();
        end = s.size();
    } else {
        end = text_end + 2;
    }
    std::string_view text = s.substr(text_begin, text_end - text_begin);
    if (text.find("=?") != std::string_view::npos && text.find("=?") != text.find("=?=")) {
        // Another word starts inside: this one is broken. Do not swallow its neighbour.
        return std::nullopt;
    }
    EncodedWord w;
    w.end = end;
    w.charset = std::string(cs);
    if (enc == 'B' || enc == 'b') {
        w.bytes = decode_base64(text).data;
    } else {
        w.bytes = decode_q(text);
    }
    return w;
}

}  // namespace

std::string decode_rfc2047(std::string_view s) {
    if (s.find("=?") == std::string_view::npos) return sanitize_utf8(s);
    std::string out;
    std::string pending_bytes, pending_cs;  // adjacent words of one charset, joined before conversion
    auto flush = [&] {
        if (!pending_cs.empty() || !pending_bytes.empty()) out += to_utf8(pending_bytes, pending_cs).text;
        pending_bytes.clear();
        pending_cs.clear();
    };
    std::size_t pos = 0, literal_begin = 0;
    bool last_was_word = false;
    while (pos < s.size()) {
        const std::size_t at = s.find("=?", pos);
        if (at == std::string_view::npos) break;
        auto w = parse_encoded_word(s, at);
        if (!w) {
            pos = at + 2;
            continue;
        }
        std::string_view between = s.substr(literal_begin, at - literal_begin);
        const bool only_space =
            std::all_of(between.begin(), between.end(), [](char c) { return is_space(c); });
        if (!(last_was_word && only_space)) {
            flush();
            out += sanitize_utf8(between);
        }
        const std::string cs = ascii_lower(w->charset);
        if (!pending_bytes.empty() && cs != pending_cs) flush();
        pending_cs = cs;
        pending_bytes += w->bytes;
        pos = literal_begin = w->end;
        last_was_word = true;
    }
    flush();
    out += sanitize_utf8(s.substr(std::min(literal_begin, s.size())));
    return out;
}

namespace {

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

/// A quoted-string's content, backslash escapes removed. `s` starts after the opening quote;
/// `consumed` gets the length including the closing quote (missing quote: to the end).
std::string read_quoted(std::string_view s, std::size_t& consumed) {
    std::string out;
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            out.push_back(s[++i]);
        } else if (s[i] == '"') {
            consumed = i + 1;
            return out;
        } else if (s[i] == '\r' || s[i] == '\n') {
            continue;
        } else {
            out.push_back(s[i]);
        }
    }
    consumed = s.size();
    return out;
}

/// Strip a value as a MIME library may hand it over: surrounding quotes, trailing comment.
std::string clean_param_value(std::string_view v) {
    v = trim(v);
    if (!v.empty() && v.front() == '"') {
        std::size_t used = 0;
        return read_quoted(v.substr(1), used);
    }
    // unquoted value: a trailing "(comment)" is not part of it
    if (const auto paren = v.find('('); paren != std::string_view::npos && paren > 0 && v.back() == ')')
        v = trim(v.substr(0, paren));
    return std::string(v);
}

/// A list without RFC 2231 pieces (no '*' in a name): each name's first value, in first-seen
/// order, RFC 2047-decoded, without fold_params's maps (they were most of the cost of reading a
/// Content-Type, which happens for every part). `unquoted(item)` is the item's value as meant.
template <class Item, class NameOf, class Unquoted>
Params first_value_of_each(const std::vector<Item>& items, NameOf name_of, Unquoted unquoted) {
    Params out;
    out.reserve(items.size());
    for (const auto& item : items) {
        std::string name = ascii_lower(trim(name_of(item)));
        if (name.empty()) continue;
        if (std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == name; })) continue;
        out.emplace_back(std::move(name), decode_rfc2047(unquoted(item)));
    }
    return out;
}

}  // namespace

Params fold_params(const std::vector<std::pair<std::string, std::string>>& raw) {
    struct Segment {
        int index;
        bool encoded;
        std::string value;
    };
    // Most parameter lists have no RFC 2231 piece.
    if (std::none_of(raw.begin(), raw.end(), [](const auto& p) { return p.first.find('*') != std::string::npos; }))
        return first_value_of_each(
            raw, [](const auto& p) -> std::string_view { return p.first; },
            [](const auto& p) { return clean_param_value(p.second); });
    // Keep first-seen order of names; 2231 pieces grouped by their base name.
    std::vector<std::string> order;
    std::map<std::string, std::string> plain;
    std::map<std::string, std::vector<Segment>> extended;
    for (const auto& [rawname, rawvalue] : raw) {
        std::string name = ascii_lower(trim(rawname));
        if (name.empty()) continue;
        const auto star = name.find('*');
        if (star == std::string::npos) {
            if (!plain.count(name)) {
                plain[name] = rawvalue;
                if (!extended.count(name)) order.push_back(name);
            }
            continue;
        }
        std::string base = name.substr(0, star);
        std::string rest = name.substr(star + 1);  // "", "0", "0*", "1", ...
        Segment seg{0, false, rawvalue};
        if (rest.empty()) {
            seg.encoded = true;
        } else {
            if (rest.back() == '*') {
                seg.encoded = true;
                rest.pop_back();
            }
            if (rest.empty() || !std::all_of(rest.begin(), rest.end(), ::isdigit) || rest.size() > 4) continue;
            seg.index = std::stoi(rest);
        }
        if (!plain.count(base) && !extended.count(base)) order.push_back(base);
        extended[base].push_back(std::move(seg));
    }
    Params out;
    for (const auto& name : order) {
        auto ext = extended.find(name);
        if (ext == extended.end()) {
            out.emplace_back(name, decode_rfc2047(clean_param_value(plain[name])));
            continue;
        }
        auto segs = ext->second;
        std::stable_sort(segs.begin(), segs.end(), [](const Segment& a, const Segment& b) { return a.index < b.index; });
        std::string charset, bytes;
        bool any_encoded = false;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            std::string v = clean_param_value(segs[i].value);
            if (segs[i].encoded) {
                if (i == 0) {
                    // charset'language'value; quotes missing means no charset was given.
                    const auto q1 = v.find('\'');
                    const auto q2 = q1 == std::string::npos ? std::string::npos : v.find('\'', q1 + 1);
                    if (q2 != std::string::npos) {
                        charset = v.substr(0, q1);
                        v = v.substr(q2 + 1);
                    }
                }
                any_encoded = true;
                bytes += percent_decode(v);
            } else {
                bytes += v;
            }
        }
        std::string value;
        if (any_encoded && !charset.empty()) value = to_utf8(bytes, charset).text;
        else value = decode_rfc2047(bytes);
        out.emplace_back(name, std::move(value));
    }
    return out;
}

Params parse_params(std::string_view s) {
    struct Item {
        std::string_view name;  // trimmed, as written
        std::string value;      // a quoted string's content, else the trimmed bytes
        bool quoted = false;
    };
    std::vector<Item> items;
    bool any_star = false;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (is_space(s[i]) || s[i] == ';')) ++i;
        if (i >= s.size()) break;
        const std::size_t name_begin = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
        std::string_view name = trim(s.substr(name_begin, i - name_begin));
        if (i >= s.size() || s[i] == ';') {
            continue;  // a bare word without '=': nothing to keep
        }
        ++i;  // '='
        while (i < s.size() && is_space(s[i])) ++i;
        Item item;
        item.name = name;
        if (i < s.size() && s[i] == '"') {
            std::size_t used = 0;
            item.value = read_quoted(s.substr(i + 1), used);
            item.quoted = true;
            i += 1 + used;
            while (i < s.size() && s[i] != ';') ++i;  // junk after the closing quote
        } else {
            const std::size_t vb = i;
            while (i < s.size() && s[i] != ';') ++i;
            item.value = std::string(trim(s.substr(vb, i - vb)));
        }
        any_star = any_star || name.find('*') != std::string_view::npos;
        items.push_back(std::move(item));
    }
    if (!any_star) {
        // What fold_params does with such a list, without re-quoting each quoted value to
        // unquote it again. That second reading dropped every CR and LF, including one that
        // followed a backslash (which read_quoted keeps): dropped here too, so a folded
        // "C:\<LF> x.doc" stays "C:x.doc".
        return first_value_of_each(
            items, [](const Item& item) { return item.name; },
            [](const Item& item) {
                if (!item.quoted) return clean_param_value(item.value);
                std::string v = item.value;
                std::erase_if(v, [](char c) { return c == '\r' || c == '\n'; });
                return v;
            });
    }
    std::vector<std::pair<std::string, std::string>> raw;
    raw.reserve(items.size());
    for (const auto& item : items) {
        std::string value;
        if (item.quoted) {
            // re-quoted so that clean_param_value treats it as one quoted string
            value = "\"";
            for (char c : item.value) {
                if (c == '"' || c == '\\') value.push_back('\\');
                value.push_back(c);
            }
            value.push_back('"');
        } else {
            value = item.value;
        }
        raw.emplace_back(std::string(item.name), std::move(value));
    }
    return fold_params(raw);
}

std::string param(const Params& p, std::string_view name) {
    for (const auto& [k, v] : p)
        if (k == name) return v;
    return {};
}

ContentTypeValue parse_content_type(std::string_view value, bool with_params) {
    ContentTypeValue ct;
    const auto semi = value.find(';');
    std::string_view head = trim(value.substr(0, semi));
    // "text/plain (comment)"
    if (const auto paren = head.find('('); paren != std::string_view::npos) head = trim(head.substr(0, paren));
    const auto slash = head.find('/');
    if (slash != std::string_view::npos) {
        ct.type = ascii_lower(trim(head.substr(0, slash)));
        ct.subtype = ascii_lower(trim(head.substr(slash + 1)));
        // "text/plain charset=us-ascii" (missing ';'): the subtype is the first word
        if (const auto sp = ct.subtype.find_first_of(" \t"); sp != std::string::npos) {
            if (with_params) ct.params = parse_params(std::string_view(ct.subtype).substr(sp));
            ct.subtype.resize(sp);
        }
    } else {
        ct.type = ascii_lower(head);
    }
    if (semi != std::string_view::npos && with_params) {
        auto more = parse_params(value.substr(semi + 1));
        ct.params.insert(ct.params.end(), more.begin(), more.end());
    }
    return ct;
}

// ---------------------------------------------------------------- addresses

namespace {

struct Tok {
    enum Kind { word, quoted, comment, angle, comma, semicolon, colon } kind;
    std::string text;
    bool space_before = false;
};

std::vector<Tok> tokenize_addresses(std::string_view s) {
    std::vector<Tok> toks;
    std::size_t i = 0;
    bool space = false;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(c)) {
            space = true;
            ++i;
            continue;
        }
        Tok t{Tok::word, {}, space};
        space = false;
        if (c == '"') {
            std::size_t used = 0;
            t.kind = Tok::quoted;
            t.text = read_quoted(s.substr(i + 1), used);
            i += 1 + used;
        } else if (c == '(') {
            int depth = 0;
            std::size_t j = i;
            for (; j < s.size(); ++j) {
                if (s[j] == '\\' && j + 1 < s.size()) {
                    if (depth > 0) t.text.push_back(s[j + 1]);
                    ++j;
                    continue;
                }
                if (s[j] == '(') {
                    if (depth++ > 0) t.text.push_back('(');
                } else if (s[j] == ')') {
                    if (--depth == 0) break;
                    t.text.push_back(')');
                } else {
                    t.text.push_back(s[j]);
                }
            }
            t.kind = Tok::comment;
            i = j + 1;
        } else if (c == '<') {
            std::size_t j = s.find('>', i + 1);
            if (j == std::string_view::npos) j = s.size();
            t.kind = Tok::angle;
            t.text = std::string(s.substr(i + 1, j - i - 1));
            i = j + 1;
        } else if (c == ',') {
            t.kind = Tok::comma;
            ++i;
        } else if (c == ';') {
            t.kind = Tok::semicolon;
            ++i;
        } else if (c == ':') {
            t.kind = Tok::colon;
            ++i;
        } else {
            std::size_t j = i;
            while (j < s.size() && !is_space(s[j]) && s[j] != '"' && s[j] != '(' && s[j] != '<' && s[j] != ',' &&
                   s[j] != ';' && s[j] != ':' && s[j] != '>')
                ++j;
            if (j == i) ++j;  // a stray '>'
            t.text = std::string(s.substr(i, j - i));
            i = j;
        }
        toks.push_back(std::move(t));
    }
    return toks;
}

std::string collapse_spaces(std::string_view s) {
    std::string out;
    bool sp = false;
    for (char c : s) {
        if (is_space(c)) {
            sp = !out.empty();
            continue;
        }
        if (sp) out.push_back(' ');
        sp = false;
        out.push_back(c);
    }
    return out;
}

std::string clean_addr_spec(std::string_view a) {
    std::string s;
    for (char c : a)
        if (!is_space(c)) s.push_back(c);
    // obsolete source route "@a,@b:user@host"
    if (!s.empty() && s[0] == '@') {
        if (const auto colon = s.find(':'); colon != std::string::npos) s = s.substr(colon + 1);
    }
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"' && s.find('@') == std::string::npos)
        s = s.substr(1, s.size() - 2);
    return s;
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view value) {
    std::vector<Address> out;
    const auto toks = tokenize_addresses(value);
    std::vector<const Tok*> phrase;
    std::vector<std::string> comments;
    std::string angle;
    bool have_angle = false;
    auto finish = [&] {
        std::string name;
        // The phrase: words joined as written; encoded words decoded across the whole phrase.
        std::string phrase_text;
        for (const Tok* t : phrase) {
            if (!phrase_text.empty() && t->space_before) phrase_text.push_back(' ');
            if (t->kind == Tok::quoted) phrase_text += t->text;
            else if (t->kind == Tok::colon) phrase_text += ":";
            else phrase_text += t->text;
        }
        Address a;
        if (have_angle) {
            a.address = clean_addr_spec(angle);
            name = phrase_text;
            if (trim(name).empty() && !comments.empty()) name = comments.front();
            // "Name <>": keep the mailbox out, there is no address to reply to
        } else {
            // addr-spec alone; a quoted-string local part keeps its quotes off
            std::string spec;
            bool has_at = false;
            for (const Tok* t : phrase) {
                if (t->kind == Tok::quoted) spec += t->text;
                else spec += t->text;
                if (t->text.find('@') != std::string::npos) has_at = true;
            }
            if (has_at) {
                a.address = clean_addr_spec(spec);
                if (!comments.empty()) name = comments.front();
            } else if (!phrase.empty()) {
                // No address at all ("Whomever", "Undisclosed recipients"): a name, no mailbox.
                name = phrase_text;
            }
        }
        a.name = collapse_spaces(decode_rfc2047(trim(name)));
        if (a.name.size() >= 2 && a.name.front() == '"' && a.name.back() == '"')
            a.name = a.name.substr(1, a.name.size() - 2);
        a.address = sanitize_utf8(a.address);
        if (!a.address.empty() || !a.name.empty()) out.push_back(std::move(a));
        phrase.clear();
        comments.clear();
        angle.clear();
        have_angle = false;
    };
    for (std::size_t i = 0; i < toks.size(); ++i) {
        const Tok& t = toks[i];
        switch (t.kind) {
            case Tok::comma:
                finish();
                break;
            case Tok::semicolon:
                finish();
                break;
            case Tok::colon: {
                // "group: a, b;" — the phrase before it is the group name, dropped.
                // A colon inside an angle-less addr-spec is not legal anyway.
                bool phrase_has_at = false;
                for (const Tok* p : phrase)
                    if (p->text.find('@') != std::string::npos && p->kind != Tok::quoted) phrase_has_at = true;
                if (!have_angle && !phrase_has_at) {
                    phrase.clear();
                    comments.clear();
                } else {
                    phrase.push_back(&t);
                }
                break;
            }
            case Tok::angle:
                if (have_angle) {
                    // Two angle addresses without a comma: two mailboxes.
                    finish();
                }
                angle = t.text;
                have_angle = true;
                break;
            case Tok::comment:
                comments.push_back(t.text);
                break;
            case Tok::word:
            case Tok::quoted:
                if (have_angle) {
                    // Text after "<addr>" without a comma: the start of another mailbox if it
                    // looks like one, else trailing junk that belongs to the name.
                    if (t.kind == Tok::word && t.text.find('@') != std::string::npos) {
                        finish();
                    }
                }
                phrase.push_back(&t);
                break;
        }
    }
    finish();
    return out;
}

std::vector<std::string> parse_msg_ids(std::string_view value) {
    std::vector<std::string> ids;
    std::size_t i = 0;
    bool any_angle = value.find('<') != std::string_view::npos;
    if (any_angle) {
        while ((i = value.find('<', i)) != std::string_view::npos) {
            std::size_t e = value.find('>', i + 1);
            if (e == std::string_view::npos) e = value.size();
            std::string id;
            for (char c : value.substr(i + 1, e - i - 1))
                if (!is_space(c)) id.push_back(c);
            if (!id.empty()) ids.push_back(sanitize_utf8(id));
            i = e;
        }
        return ids;
    }
    // No brackets: blank- or comma-separated ids; comments dropped.
    std::string cur;
    int depth = 0;
    for (char c : value) {
        if (c == '(') {
            ++depth;
            continue;
        }
        if (c == ')' && depth > 0) {
            --depth;
            continue;
        }
        if (depth > 0) continue;
        if (is_space(c) || c == ',') {
            if (!cur.empty()) ids.push_back(sanitize_utf8(cur));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) ids.push_back(sanitize_utf8(cur));
    return ids;
}

// ---------------------------------------------------------------- dates

namespace {

int month_from_name(std::string_view w) {
    static const char* names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
    if (w.size() < 3) return 0;
    const std::string l = ascii_lower(w.substr(0, 3));
    for (int i = 0; i < 12; ++i)
        if (l == names[i]) return i + 1;
    return 0;
}

std::optional<int> zone_from_name(std::string_view w) {
    const std::string l = ascii_lower(w);
    struct Z {
        const char* n;
        int minutes;
    };
    static const Z zones[] = {{"ut", 0},        {"utc", 0},       {"gmt", 0},       {"z", 0},         {"est", -5 * 60},
                              {"edt", -4 * 60}, {"cst", -6 * 60}, {"cdt", -5 * 60}, {"mst", -7 * 60}, {"mdt", -6 * 60},
                              {"pst", -8 * 60}, {"pdt", -7 * 60}, {"cet", 60},      {"cest", 120},    {"met", 60},
                              {"mest", 120},    {"bst", 60},      {"eet", 120},     {"eest", 180},    {"jst", 540},
                              {"hkt", 480},     {"ist", 330},     {"wet", 0},       {"west", 60}};
    for (const auto& z : zones)
        if (l == z.n) return z.minutes;
    // RFC 5322 4.3: military zones are unreliable ("should be considered equivalent to -0000").
    if (l.size() == 1 && l[0] >= 'a' && l[0] <= 'z' && l[0] != 'j') return 0;
    return std::nullopt;
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_date(std::string_view value) {
    // Tokens: runs of letters, runs of digits (with ':' kept inside times), and signs.
    int day = -1, month = 0, year = -1, hh = -1, mm = -1, ss = 0;
    int zone_min = 0;
    bool zone_set = false;
    std::size_t i = 0;
    const std::size_t n = value.size();
    while (i < n) {
        const char c = value[i];
        if (c == '(') {  // comment, e.g. "(PDT)": the numeric zone already says it
            int depth = 0;
            for (; i < n; ++i) {
                if (value[i] == '(') ++depth;
                else if (value[i] == ')' && --depth == 0) break;
            }
            ++i;
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(c))) {
            std::size_t j = i;
            while (j < n && std::isalpha(static_cast<unsigned char>(value[j]))) ++j;
            std::string_view w = value.substr(i, j - i);
            // Day names share no three-letter prefix with month names, so the first word that
            // starts like a month is the month ("Oct", "October").
            if (const int m = month_from_name(w); m && month == 0) {
                month = m;
            } else if (hh >= 0 && !zone_set) {
                if (auto z = zone_from_name(w)) {
                    zone_min = *z;
                    zone_set = true;
                }
            }
            i = j;
            continue;
        }
        if ((c == '+' || c == '-') && i + 1 < n && std::isdigit(static_cast<unsigned char>(value[i + 1])) && hh >= 0 &&
            !zone_set) {
            std::size_t j = i + 1;
            int v = 0, digits = 0;
            while (j < n && std::isdigit(static_cast<unsigned char>(value[j])) && digits < 4) {
                v = v * 10 + (value[j] - '0');
                ++j;
                ++digits;
            }
            if (digits == 4 || digits == 3) {
                const int mins = (v / 100) * 60 + v % 100;
                zone_min = c == '-' ? -mins : mins;
            } else if (digits <= 2) {
                zone_min = (c == '-' ? -v : v) * 60;
            }
            zone_set = true;
            i = j;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            std::size_t j = i;
            int v = 0, digits = 0;
            while (j < n && std::isdigit(static_cast<unsigned char>(value[j]))) {
                if (digits < 9) v = v * 10 + (value[j] - '0');
                ++j;
                ++digits;
            }
            if (j < n && value[j] == ':' && hh < 0) {
                // time: hh:mm[:ss]
                hh = v;
                ++j;
                int m = 0, md = 0;
                while (j < n && std::isdigit(static_cast<unsigned char>(value[j]))) {
                    if (md < 9) m = m * 10 + (value[j] - '0');  // a hostile run of digits must not overflow
                    ++j;
                    ++md;
                }
                mm = md ? m : 0;
                if (j < n && value[j] == ':') {
                    ++j;
                    int sv = 0, sd = 0;
                    while (j < n && std::isdigit(static_cast<unsigned char>(value[j]))) {
                        if (sd++ < 9) sv = sv * 10 + (value[j] - '0');
                        ++j;
                    }
                    ss = sv;
                }
                // fractional seconds
                if (j < n && value[j] == '.')
                    for (++j; j < n && std::isdigit(static_cast<unsigned char>(value[j])); ++j) {
                    }
            } else if (day < 0 && digits <= 2 && month == 0 && year < 0) {
                day = v;
            } else if (day < 0 && digits <= 2 && month != 0 && year < 0) {
                day = v;  // "Oct 7 1994" style
            } else if (year < 0 && (digits == 4 || digits == 2 || digits == 3)) {
                year = v;
            } else if (day < 0 && digits <= 2) {
                day = v;
            }
            i = j;
            continue;
        }
        ++i;
    }
    if (day < 1 || day > 31 || month == 0 || year < 0 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || ss > 60)
        return std::nullopt;
    // RFC 5322 4.3: two-digit years 00-49 are 2000s, 50-99 1900s; three digits add 1900.
    if (year < 50) year += 2000;
    else if (year < 100) year += 1900;
    else if (year < 1000) year += 1900;
    using namespace std::chrono;
    const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                             std::chrono::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    sys_seconds t = sys_days{ymd} + hours{hh} + minutes{mm} + seconds{std::min(ss, 59)};
    t -= minutes{zone_min};
    return t;
}

std::string format_iso8601(std::chrono::sys_seconds t) {
    using namespace std::chrono;
    const auto dp = floor<days>(t);
    const year_month_day ymd{dp};
    const hh_mm_ss hms{t - dp};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}


}  // namespace ticketd::parsers::reference
