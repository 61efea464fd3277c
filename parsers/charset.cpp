#include "parsers/charset.h"

#include <iconv.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cerrno>
#include <map>
#include <memory>
#include <string>

namespace ticketd::parsers {

using namespace std::string_view_literals;

namespace {

/// Length of the leading run of ASCII bytes: sixteen at a time with SSE2 (every x86-64 has it),
/// eight at a time elsewhere. The valid-UTF-8 check and the pure-ASCII test run over every text
/// part and nearly every header value, and most of their bytes are ASCII.
inline std::size_t ascii_prefix(const unsigned char* p, std::size_t n) {
    constexpr std::uint64_t high = 0x8080808080808080ULL;
    // The first byte whose high bit is set in a word of `high` bits (little-endian: lowest first).
    auto first = [](std::uint64_t bits) { return static_cast<std::size_t>(__builtin_ctzll(bits)) / 8; };
    std::size_t i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        const int bits = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
        if (bits) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t w;
        for (; i + 8 <= n; i += 8) {
            __builtin_memcpy(&w, p + i, 8);
            if (w & high) return i + first(w & high);
        }
        if (i == n) return n;
        // The last (fewer than eight) bytes as the word that ends at the end, not one at a time
        // (its first bytes, before `i`, are ASCII).
        if (n >= 8) {
            __builtin_memcpy(&w, p + n - 8, 8);
            return (w & high) ? n - 8 + first(w & high) : n;
        }
    }
    while (i < n && p[i] < 0x80) ++i;
    return i;
}

/// What convert() asks of a text before choosing a path, in one pass (it read the text up to
/// four times: ISO-2022-JP escapes, ASCII, ESC and NUL).
struct TextScan {
    bool ascii = true;  ///< no byte of 0x80 or above
    bool esc = false;   ///< an ESC byte (a possible ISO-2022 escape)
    bool nul = false;   ///< a NUL byte
};

TextScan scan_text(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    TextScan t;
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128i esc = _mm_set1_epi8('\x1b'), zero = _mm_setzero_si128();
    int high = 0, escs = 0, nuls = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        high |= _mm_movemask_epi8(v);
        escs |= _mm_movemask_epi8(_mm_cmpeq_epi8(v, esc));
        nuls |= _mm_movemask_epi8(_mm_cmpeq_epi8(v, zero));
    }
    t.ascii = high == 0;
    t.esc = escs != 0;
    t.nul = nuls != 0;
#endif
    for (; i < n; ++i) {
        t.ascii = t.ascii && p[i] < 0x80;
        t.esc = t.esc || p[i] == 0x1b;
        t.nul = t.nul || p[i] == 0;
    }
    return t;
}

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
        // ASCII runs in bulk; `i` then stops on the first 8-bit byte (or the end). Text in a
        // non-Latin script goes from one multi-byte character straight to the next.
        if (p[i] < 0x80) {
            i += ascii_prefix(p + i, n - i);
            if (i >= n) break;
        }
        const unsigned c = p[i];
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
    // The labels nearly all mail carries, as they are written, answered before the general
    // reading below (which gives them the same answers): this runs for every text part and
    // every encoded word.
    auto is = [&](std::string_view name) {
        return label.size() == name.size() &&
               std::equal(label.begin(), label.end(), name.begin(), [](char a, char b) {
                   return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
               });
    };
    if (is("utf-8")) return "UTF-8";
    if (is("us-ascii")) return "";
    if (is("iso-8859-1")) return "WINDOWS-1252";
    std::string l = lower_trim(label);
    // "charset*lang" from RFC 2231 / RFC 2047 language suffix.
    if (auto star = l.find('*'); star != std::string::npos) l.resize(star);
    const std::string_view lv = l;
    // Views, not C strings: a comparison is a length check first (this runs for every text part
    // and every encoded word; comparing with C strings was a strlen each, ~1,100 instructions
    // a label).
    static constexpr std::string_view no_charset[] = {
        "",        "us-ascii", "ascii",          "us_ascii", "ansi_x3.4-1968", "unknown-8bit", "x-unknown",
        "unknown", "default",  "x-user-defined", "8bit",     "7bit",           "none",         "charset"};
    for (const std::string_view n : no_charset)
        if (lv == n) return "";
    struct Alias {
        std::string_view from;
        const char* to;
    };
    static constexpr Alias aliases[] = {
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
        if (lv == a.from) return a.to;
    // "windows-1252", "cp1252", "iso-8859-15", "koi8-u", ... are iconv names already;
    // "win-1251" and "cp-1251" spellings are not.
    if (l.rfind("win-", 0) == 0) return "WINDOWS-" + l.substr(4);
    if (l.rfind("cp-", 0) == 0) return "CP" + l.substr(3);
    if (l.rfind("iso8859-", 0) == 0) return "ISO-8859-" + l.substr(8);
    if (l.rfind("iso_8859-", 0) == 0) return "ISO-8859-" + l.substr(9);
    if (l.rfind("iso8859", 0) == 0 && l.size() > 7) return "ISO-8859-" + l.substr(7);
    for (char& c : l)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return l;
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
    const TextScan scan = scan_text(bytes);
    // Escape sequences are unambiguous: undeclared or mislabelled ISO-2022-JP (zammad#2498).
    if ((name.empty() || name == "UTF-8"sv || name == "WINDOWS-1252"sv) && scan.esc && scan.ascii &&
        looks_like_iso2022jp(bytes)) {
        name = "ISO-2022-JP";
    }
    if (name == "UTF-8"sv || name.empty()) {
        if (scan.ascii || is_valid_utf8(bytes)) {
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
    if (scan.ascii && !scan.esc && !scan.nul && name.rfind("UTF-16", 0) != 0 && name.rfind("UTF-32", 0) != 0 &&
        name.rfind("UCS", 0) != 0 && name.rfind("UTF-7", 0) != 0 && name.rfind("ISO-2022", 0) != 0 &&
        name.rfind("HZ", 0) != 0) {
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
    // and a sum, no branch, for the tail; SSE2 compares for the rest: this reads up to 8,000
    // bytes of every text part.
    static constexpr auto kNonText = [] {
        std::array<unsigned char, 256> t{};
        for (int c = 0; c < 0x07; ++c) t[c] = 1;
        for (int c = 0x10; c < 0x20; ++c) t[c] = c != 0x1b;
        t[0x7f] = 1;
        return t;
    }();
    const auto* p = reinterpret_cast<const unsigned char*>(probe.data());
    const std::size_t n = probe.size();
    std::size_t odd = 0, i = 0;
#if defined(__SSE2__)
    // The same count sixteen bytes at a time: a byte counts when it is 0x00-0x06, 0x10-0x1F but
    // 0x1B, or 0x7F (kNonText). Each lane of `acc` counts up to 255 blocks.
    const __m128i c06 = _mm_set1_epi8(0x06), cf0 = _mm_set1_epi8(static_cast<char>(0xF0)),
                  c10 = _mm_set1_epi8(0x10), c1b = _mm_set1_epi8(0x1B), c7f = _mm_set1_epi8(0x7F);
    while (i + 16 <= n) {
        __m128i acc = _mm_setzero_si128();
        for (int blocks = 0; blocks < 255 && i + 16 <= n; ++blocks, i += 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, c06), x);  // x <= 0x06 (unsigned)
            const __m128i c0 = _mm_andnot_si128(_mm_cmpeq_epi8(x, c1b), _mm_cmpeq_epi8(_mm_and_si128(x, cf0), c10));
            const __m128i del = _mm_cmpeq_epi8(x, c7f);
            acc = _mm_sub_epi8(acc, _mm_or_si128(_mm_or_si128(low, c0), del));  // a match is -1
        }
        const __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
        odd += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
               static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums)));
    }
#endif
    for (; i < n; ++i) odd += kNonText[p[i]];
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

}  // namespace ticketd::parsers
