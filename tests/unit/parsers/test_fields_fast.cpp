// The fast paths of the header, charset and transfer decoders (issue 2) held to the functions as
// they were before (fields_reference.cpp, parsers/*.cpp at e8a68db): seeded generated inputs,
// hostile ones included (RFC 2047 words split over folds, bad base64, invalid UTF-8, NULs, 8-bit
// bytes, very long values), and every header field of the shared corpus and tests/data. A fast
// path that drifts from its reference on any input fails here.

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fields_reference.h"
#include "parsers/charset.h"
#include "parsers/headers.h"
#include "parsers/textutil.h"
#include "parsers/transfer.h"
#include "tests/support/paths.h"

namespace tp = ticketd::parsers;
namespace ref = ticketd::parsers::reference;
using namespace std::string_literals;

namespace {

/// xorshift32: the same inputs on every run.
class Rng {
public:
    explicit Rng(std::uint32_t seed) : x_(seed ? seed : 1) {}
    std::uint32_t next() {
        x_ ^= x_ << 13;
        x_ ^= x_ >> 17;
        x_ ^= x_ << 5;
        return x_;
    }
    std::uint32_t below(std::uint32_t n) { return next() % n; }
    template <std::size_t N>
    const char* pick(const char* const (&a)[N]) {
        return a[below(N)];
    }

private:
    std::uint32_t x_;
};

std::string random_bytes(Rng& r, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(r.next() & 0xff);
    return s;
}

/// Text of the kinds a part holds: ASCII lines, UTF-8 (valid and broken), latin-1, controls,
/// NULs, ISO-2022-JP escapes, byte order marks, random bytes; any length up to `max`.
std::string random_text(Rng& r, std::size_t max) {
    static const char* const pieces[] = {
        "Hello world, this is a line of plain text. ", "\r\n", "\n", "\t", " ", "caf\xc3\xa9 ", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xe9", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf", "\xff",
        "\x80", "\x01", "\x1b", "\x1b$B", "\x1b(B", "\x0e\x0f", "\x7f", "\x1a\x1c",
        "\xff\xfe", "\xfe\xff", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "\xd0\x9f\xd1\x80\xd0\xb8",
        "\xe6\x97\xa5\xe6\x9c\xac"};
    std::string s;
    const std::size_t len = r.below(static_cast<std::uint32_t>(max) + 1);
    const unsigned mode = r.below(4);
    while (s.size() < len) {
        if (mode == 0 && r.below(8) == 0) {
            s += random_bytes(r, r.below(64));
        } else if (r.below(40) == 0) {
            s.push_back('\0');
        } else {
            s += r.pick(pieces);
        }
    }
    return s;
}

const char* const kCharsets[] = {"", "utf-8", "UTF-8", "\"utf-8\"", " utf8 ", "us-ascii", "US-ASCII", "ascii",
                                 "iso-8859-1", "ISO-8859-1", "latin1", "iso8859-1", "iso_8859-1", "iso-8859-15",
                                 "windows-1252", "Windows-1252", "cp1252", "win-1251", "cp-1251", "koi8-r", "koi8r",
                                 "utf-16", "UTF-16LE", "utf-32", "ucs-2", "utf-7", "iso-2022-jp", "ISO-2022-JP-2",
                                 "shift_jis", "x-sjis", "gb2312", "big5", "euc-kr", "ks_c_5601-1987", "hz-gb-2312",
                                 "unknown-8bit", "x-unknown", "default", "charset", "utf-8*en", "iso8859-2", "iso88592",
                                 "bogus-charset", "x-mac-roman", "tis-620", "ascii-8bit", "\xe9", "'utf-8'", "7bit"};

}  // namespace

// ------------------------------------------------------------------------- transfer encodings

TEST(FieldsFast, Base64EqualsReference) {
    Rng r(20261206);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int round = 0; round < 6000; ++round) {
        std::string in;
        const unsigned kind = r.below(4);
        if (kind == 0) {
            // A well-formed body: random bytes in lines of 76 (or another width), CRLF or LF.
            const std::string data = random_bytes(r, r.below(3000));
            const std::size_t width = r.below(3) == 0 ? 4 * (1 + r.below(30)) : 76;
            const char* eol = r.below(2) ? "\r\n" : "\n";
            std::string enc;
            for (std::size_t i = 0; i < data.size(); i += 3) {
                const std::size_t n = std::min<std::size_t>(3, data.size() - i);
                std::uint32_t v = 0;
                for (std::size_t k = 0; k < 3; ++k)
                    v = (v << 8) | (k < n ? static_cast<unsigned char>(data[i + k]) : 0u);
                enc += alphabet[(v >> 18) & 63];
                enc += alphabet[(v >> 12) & 63];
                enc += n > 1 ? alphabet[(v >> 6) & 63] : '=';
                enc += n > 2 ? alphabet[v & 63] : '=';
            }
            for (std::size_t i = 0; i < enc.size(); i += width) in += enc.substr(i, width) + eol;
            if (r.below(4) == 0 && !in.empty())
                in.insert(r.below(static_cast<std::uint32_t>(in.size())), 1, "=\r\n \t!\x80"[r.below(7)]);
        } else {
            const std::size_t len = r.below(kind == 3 ? 5000 : 300);
            while (in.size() < len) {
                const unsigned x = r.below(100);
                if (x < 80) in += alphabet[r.below(64)];
                else if (x < 86) in += "\r\n";
                else if (x < 89) in += '\n';
                else if (x < 90) in += '\r';
                else if (x < 94) in += '=';
                else if (x < 97) in += " \t\f\v"[r.below(4)];
                else if (round % 3 == 0) in += "!*\x80-\0"s[r.below(5)];  // junk ends the decoding
                else in += alphabet[r.below(64)];
            }
        }
        const auto fast = tp::decode_base64(in);
        const auto slow = ref::decode_base64(in);
        ASSERT_EQ(fast.ok, slow.ok) << in;
        ASSERT_EQ(fast.data, slow.data) << in;
    }
}

// Each byte value at each offset of four quanta: the four shifted tables must reject exactly the
// bytes the alphabet table rejects, wherever in a quantum (or pair of quanta) they fall.
TEST(FieldsFast, Base64EveryByteAtEveryOffsetEqualsReference) {
    for (int b = 0; b < 256; ++b) {
        for (std::size_t at = 0; at < 16; ++at) {
            std::string in = "QUJDREVGR0hJSktM";  // four quanta of alphabet bytes
            in[at] = static_cast<char>(b);
            for (const std::string& tail : {""s, "\r\nTU5P"s, "\nTU4="s, "=\r\n"s}) {
                const auto fast = tp::decode_base64(in + tail);
                const auto slow = ref::decode_base64(in + tail);
                ASSERT_EQ(fast.ok, slow.ok) << b << " at " << at;
                ASSERT_EQ(fast.data, slow.data) << b << " at " << at;
            }
        }
    }
}

TEST(FieldsFast, QuotedPrintableAndQEqualReference) {
    Rng r(4242);
    static const char* const pieces[] = {"=", "=3D", "=3d", "=C3=A9", "=\r\n", "=\n", "= \t\r\n", "=x", "=4", "_",
                                         "abc", " ", "\r\n", "\xe9", "=G1", "==",
                                         "line of text "};
    for (int round = 0; round < 5000; ++round) {
        std::string in;
        for (std::uint32_t k = r.below(40); k > 0; --k) in += r.pick(pieces);
        if (r.below(10) == 0) in.push_back('\0');
        ASSERT_EQ(tp::decode_qp(in), ref::decode_qp(in)) << in;
        ASSERT_EQ(tp::decode_q(in), ref::decode_q(in)) << in;
    }
}

// ------------------------------------------------------------------------- charsets

TEST(FieldsFast, Utf8CheckBinaryProbeAndSanitizeEqualReference) {
    Rng r(777);
    for (int round = 0; round < 6000; ++round) {
        const std::string s = random_text(r, round % 10 == 0 ? 20000 : 300);
        ASSERT_EQ(tp::is_valid_utf8(s), ref::is_valid_utf8(s)) << s;
        ASSERT_EQ(tp::looks_like_iso2022jp(s), ref::looks_like_iso2022jp(s)) << s;
        ASSERT_EQ(tp::sanitize_utf8(s), ref::sanitize_utf8(s)) << s;
        const char* cs = r.pick(kCharsets);
        ASSERT_EQ(tp::looks_binary(s, cs), ref::looks_binary(s, cs)) << cs << ": " << s;
    }
    // Every single byte and every pair of bytes after an ASCII run (the word-at-a-time paths
    // meet the byte in each lane).
    for (int lead = 0; lead < 20; ++lead) {
        for (int a = 0; a < 256; ++a) {
            for (int b = 0; b < 256; b += (lead % 4 == 0 ? 1 : 17)) {
                std::string s(static_cast<std::size_t>(lead), 'x');
                s.push_back(static_cast<char>(a));
                s.push_back(static_cast<char>(b));
                s += "\x80\xbf";
                ASSERT_EQ(tp::is_valid_utf8(s), ref::is_valid_utf8(s)) << lead << " " << a << " " << b;
                ASSERT_EQ(tp::is_valid_utf8(s.substr(0, s.size() - 2)), ref::is_valid_utf8(s.substr(0, s.size() - 2)));
            }
        }
    }
}

TEST(FieldsFast, BinaryProbeCountsEveryByteLikeReference) {
    // Each byte value, alone and in numbers around the 1-in-32 threshold, at every offset of the
    // probe window and past it.
    Rng r(31337);
    for (int b = 0; b < 256; ++b) {
        for (int round = 0; round < 12; ++round) {
            const std::size_t len = round < 4 ? 8 * round + r.below(40) : r.below(9000);
            std::string s(len, 'a');
            const std::size_t hits = round % 3 == 0 ? len / 32 + 1 : r.below(static_cast<std::uint32_t>(len / 16 + 2));
            for (std::size_t k = 0; k < hits && len > 0; ++k) s[r.below(static_cast<std::uint32_t>(len))] = static_cast<char>(b);
            for (const char* cs : {"", "utf-16le", "windows-1252"})
                ASSERT_EQ(tp::looks_binary(s, cs), ref::looks_binary(s, cs)) << b << " " << len << " " << hits;
        }
    }
}

TEST(FieldsFast, CharsetNamesAndConversionEqualReference) {
    for (const char* cs : kCharsets) {
        ASSERT_EQ(tp::iconv_charset_name(cs), ref::iconv_charset_name(cs)) << cs;
        std::string up = cs;
        for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        ASSERT_EQ(tp::iconv_charset_name(up), ref::iconv_charset_name(up)) << up;
    }
    Rng r(99);
    static const char* const label_pieces[] = {"utf", "-", "8", "iso", "8859", "_", "1", "15", "windows", "125",
                                               "2", "us", "ascii", "cp", "win", "\"", "'", " ", "*", "latin",
                                               "koi8", "r", "x-", "A", "\t", "UTF"};
    for (int round = 0; round < 3000; ++round) {
        std::string label;
        for (std::uint32_t k = r.below(6); k > 0; --k) label += r.pick(label_pieces);
        ASSERT_EQ(tp::iconv_charset_name(label), ref::iconv_charset_name(label)) << label;
    }
    for (int round = 0; round < 4000; ++round) {
        const std::string s = random_text(r, round % 20 == 0 ? 10000 : 200);
        const char* cs = r.pick(kCharsets);
        const auto fast = tp::to_utf8_or_same(s, cs);
        const auto slow = ref::to_utf8_or_same(s, cs);
        ASSERT_EQ(fast.text, slow.text) << cs << ": " << s;
        ASSERT_EQ(fast.exact, slow.exact) << cs << ": " << s;
        ASSERT_EQ(fast.same, slow.same) << cs << ": " << s;
        const auto full = tp::to_utf8(s, cs);
        const auto full_ref = ref::to_utf8(s, cs);
        ASSERT_EQ(full.text, full_ref.text) << cs << ": " << s;
        ASSERT_EQ(full.exact, full_ref.exact) << cs << ": " << s;
    }
}

// convert() reads a text once for ASCII, ESC and NUL (sixteen bytes at a time) before it picks a
// path: ASCII text with an ESC, an ISO-2022-JP escape, a NUL or an 8-bit byte at every offset of
// every length around the blocks, under the labels that take each path.
TEST(FieldsFast, ConversionPathChosenInOneScanAtEveryOffset) {
    static const char* const marks[] = {"\x1b", "\x1b$B", "\x1b(B", std::string_view("\0", 1).data(), "\x80", "\xc3\xa9",
                                        "\xe9", "a"};
    static const char* const labels[] = {"", "utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16", "iso-2022-jp",
                                         "koi8-r", "utf-7", "bogus-charset"};
    for (std::size_t len = 0; len <= 40; ++len)
        for (std::size_t at = 0; at <= len; ++at)
            for (std::size_t m = 0; m < std::size(marks); ++m) {
                std::string s(len, 'x');
                // marks[3] is NUL: a one-byte string whose c_str() would be empty
                s.insert(at, m == 3 ? std::string(1, '\0') : std::string(marks[m]));
                for (const char* cs : labels) {
                    const auto fast = tp::to_utf8_or_same(s, cs);
                    const auto slow = ref::to_utf8_or_same(s, cs);
                    ASSERT_EQ(fast.text, slow.text) << cs << " " << len << " " << at << " " << m;
                    ASSERT_EQ(fast.exact, slow.exact) << cs << " " << len << " " << at << " " << m;
                    ASSERT_EQ(fast.same, slow.same) << cs << " " << len << " " << at << " " << m;
                }
            }
}

// The lower-casing and the ASCII skip read words (the last one overlapping or zero-padded): every
// length from 0 to 48, every offset of an 8-bit or upper-case byte.
TEST(FieldsFast, WordAtATimeLowerAndAsciiSkipAtEveryLength) {
    Rng r(2718);
    for (std::size_t len = 0; len <= 48; ++len) {
        for (int round = 0; round < 300; ++round) {
            std::string s(len, 'a');
            for (auto& c : s) c = "aZ-_09\x80\xc3\xa9\xff" "Az@["[r.below(14)];
            ASSERT_EQ(ticketd::parsers::text::lower(s), ref::ascii_lower(s)) << len;
            ASSERT_EQ(tp::ascii_lower(s), ref::ascii_lower(s)) << len;
            ASSERT_EQ(tp::is_valid_utf8(s), ref::is_valid_utf8(s)) << len;
            std::string ascii(len, 'x');
            if (len > 0 && round % 2) ascii[r.below(static_cast<std::uint32_t>(len))] = static_cast<char>(0x80 | r.below(128));
            ASSERT_EQ(tp::is_valid_utf8(ascii), ref::is_valid_utf8(ascii)) << len;
            ASSERT_EQ(tp::to_utf8_or_same(ascii, "iso-8859-2").same, ref::to_utf8_or_same(ascii, "iso-8859-2").same) << len;
        }
    }
}

// ------------------------------------------------------------------------- header fields

namespace {

const char* const kHeaderPieces[] = {
    "John", "Doe", " ", "  ", "\t", "\r\n ", "\r\n\t", "\n ", "\"", "\\", "\\\"", "\"John, Doe\"", "(comment)", "(",
    ")", "((nested) c)", "<", ">", "<john@example.com>", "john@example.com", "@", "a@b", ",", ";", ":", "group:",
    "undisclosed-recipients:;", "<>", "@route,@r2:", "=?", "?=", "=?utf-8?q?caf=C3=A9?=", "=?UTF-8?B?w6k=?=",
    "=?iso-8859-1?q?=E9t=E9?=", "=?utf-8?b?4oKs?= =?utf-8?b?IGV1cm8=?=", "=?utf-8?q?split_=E2=82?=\r\n =?utf-8?q?=AC?=",
    "=?utf-8?x?bad?=", "=?bogus?q?x?=", "=?utf-8*en?q?lang?=", "=?iso-2022-jp?b?GyRCJEIbKEI=?=", "=?utf-8?q?no end",
    "=?utf-8?b?!!!?=", "\xe9", "\xc3\xa9", "\xff", "\x1b$B", "Mon,", "7", "Oct",
    "1994", "12:34:56", "+0200", "-0700", "GMT", "(PDT)", "EST", "Z", "99", "2024", "31", "Feb", "29", "24:00",
    "<id@host>", "<a b@c>", "id@host", "'", "=", "charset=utf-8", "name=x.pdf", "filename*=utf-8''%e2%82%ac",
    "filename*0=a", "filename*1*=%41", "boundary=\"--=_b\"", "text/plain", "multipart/mixed", "TEXT/HTML", "/",
    "Content", "x-very-long-token-that-goes-on-and-on-and-on-and-on-and-on", "\x80\xbf", "=?", "=?=", "_"};

std::string random_header_value(Rng& r) {
    std::string s;
    const std::uint32_t n = r.below(r.below(20) == 0 ? 200 : 16);
    for (std::uint32_t k = 0; k < n; ++k) {
        if (r.below(60) == 0) s.push_back('\0');
        else s += r.pick(kHeaderPieces);
    }
    return s;
}

bool same_addresses(const std::vector<tp::Address>& a, const std::vector<tp::Address>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].address != b[i].address) return false;
    return true;
}

std::string show(const std::vector<tp::Address>& v) {
    std::string s;
    for (const auto& a : v) s += "[" + a.name + " | " + a.address + "] ";
    return s;
}

/// Every function of headers.h on one value, fast against reference.
void expect_same_field_readings(std::string_view v) {
    ASSERT_EQ(tp::ascii_lower(v), ref::ascii_lower(v)) << v;
    ASSERT_EQ(tp::trim(v), ref::trim(v)) << v;
    ASSERT_EQ(tp::decode_rfc2047(v), ref::decode_rfc2047(v)) << v;
    const auto fa = tp::parse_address_list(v);
    const auto ra = ref::parse_address_list(v);
    ASSERT_TRUE(same_addresses(fa, ra)) << v << "\nfast: " << show(fa) << "\nref:  " << show(ra);
    ASSERT_EQ(tp::parse_msg_ids(v), ref::parse_msg_ids(v)) << v;
    ASSERT_EQ(tp::parse_date(v), ref::parse_date(v)) << v;
    ASSERT_EQ(tp::parse_params(v), ref::parse_params(v)) << v;
    const auto fc = tp::parse_content_type(v);
    const auto rc = ref::parse_content_type(v);
    ASSERT_EQ(fc.type, rc.type) << v;
    ASSERT_EQ(fc.subtype, rc.subtype) << v;
    ASSERT_EQ(fc.params, rc.params) << v;
    const auto fh = tp::parse_content_type(v, false);
    const auto rh = ref::parse_content_type(v, false);
    ASSERT_EQ(fh.type, rh.type) << v;
    ASSERT_EQ(fh.subtype, rh.subtype) << v;
}

}  // namespace

TEST(FieldsFast, HeaderFieldReadingsEqualReference) {
    Rng r(1812);
    for (int round = 0; round < 8000; ++round) {
        const std::string v = random_header_value(r);
        expect_same_field_readings(v);
        if (::testing::Test::HasFatalFailure()) return;
    }
    // Long values: a 20,000-byte To list and References chain.
    std::string to, refs;
    for (int i = 0; i < 800; ++i) {
        to += "\"User " + std::to_string(i) + "\" <user" + std::to_string(i) + "@example.com>,\r\n ";
        refs += "<" + std::to_string(i) + ".x@example.com> ";
    }
    expect_same_field_readings(to);
    expect_same_field_readings(refs);
}

TEST(FieldsFast, FoldParamsEqualsReference) {
    Rng r(5150);
    static const char* const names[] = {"name", "NAME", " name ", "charset", "boundary", "filename", "filename*",
                                        "filename*0", "filename*0*", "filename*1", "filename*1*", "filename*x",
                                        "filename*99999", "", " ", "x*", "Charset", " CHARSET\t", "charset*", "name*0",
                                        "name*1*", "NaMe"};
    static const char* const values[] = {"a", "\"quoted\"", "\"q\\\"x\"", "  spaced  ", "v (comment)", "utf-8''%e2%82%ac",
                                         "''plain", "%41%4", "=?utf-8?q?caf=C3=A9?=", "\xe9", "\"\r\n\"", "",
                                         "us-ascii'en'abc", "\"unterminated"};
    for (int round = 0; round < 5000; ++round) {
        std::vector<std::pair<std::string, std::string>> raw;
        for (std::uint32_t k = r.below(6); k > 0; --k) raw.emplace_back(r.pick(names), r.pick(values));
        ASSERT_EQ(tp::fold_params(raw), ref::fold_params(raw));
        // The same pairs as views (a Content-Type split in place) fold the same way.
        std::vector<std::pair<std::string_view, std::string_view>> views(raw.begin(), raw.end());
        const std::span<const std::pair<std::string_view, std::string_view>> span(views);
        const auto folded = ref::fold_params(raw);
        ASSERT_EQ(tp::fold_params(span), folded);
        // Only the names the walk reads: the same values param() finds in the whole fold, and
        // nothing else.
        const auto only = tp::fold_params_only(span, {"charset", "name"});
        for (const char* n : {"charset", "name", "filename", "boundary"})
            ASSERT_EQ(tp::param(only, n), std::string_view(n) == "charset" || std::string_view(n) == "name"
                                              ? ref::param(folded, n) : std::string()) << n;
        for (const auto& [k, v] : only) ASSERT_TRUE(k == "charset" || k == "name") << k;
    }
}

// is_decoded_header_text answers in one pass what three tests answered (the way the walk and
// decode_rfc2047_owned asked it before): an encoded word's start, an ISO-2022-JP escape, valid
// UTF-8. Generated header values, text of every kind, and "=?", ESC and an 8-bit byte at every
// offset of every length around the 16-byte blocks.
TEST(FieldsFast, DecodedHeaderTextEqualsThreeTests) {
    auto three_tests = [](std::string_view v) {
        return v.find("=?") == std::string_view::npos && !ref::looks_like_iso2022jp(v) && ref::is_valid_utf8(v);
    };
    Rng r(2047);
    std::size_t decoded = 0, not_decoded = 0;
    for (int round = 0; round < 20000; ++round) {
        const std::string v = round % 2 ? random_header_value(r) : random_text(r, 80);
        const bool fast = tp::is_decoded_header_text(v);
        ASSERT_EQ(fast, three_tests(v)) << v;
        // The claim the walk relies on: such a value is its own decoded form.
        if (fast) {
            ASSERT_EQ(tp::decode_rfc2047(v), v);
        }
        ++(fast ? decoded : not_decoded);
    }
    static const char* const marks[] = {"=?", "=", "?", "\x1b$B", "\x1b", "\xc3\xa9", "\xe9", "=?=", "?="};
    for (std::size_t len = 0; len <= 48; ++len)
        for (std::size_t at = 0; at <= len; ++at)
            for (const char* m : marks) {
                std::string v(len, 'a');
                v.insert(at, m);
                ASSERT_EQ(tp::is_decoded_header_text(v), three_tests(v)) << v;
                ASSERT_EQ(tp::is_decoded_header_text(v.substr(0, len)), three_tests(v.substr(0, len))) << v;
            }
    EXPECT_GT(decoded, 1000u);
    EXPECT_GT(not_decoded, 1000u);
}

// Every header field of every message in the shared corpus and tests/data, unfolded the simple
// way, through every reading.
TEST(FieldsFast, CorpusHeaderFieldsEqualReference) {
    std::vector<std::filesystem::path> files = ticketd::testing::corpus_message_files();
    for (const auto& e : std::filesystem::recursive_directory_iterator(ticketd::testing::data_dir()))
        if (e.is_regular_file() && e.path().extension() == ".eml") files.push_back(e.path());
    if (files.empty()) GTEST_SKIP() << "no corpus";
    std::size_t fields = 0;
    for (const auto& f : files) {
        const std::string text = ticketd::testing::read_file(f);
        const std::size_t end = std::min(text.find("\r\n\r\n"), text.find("\n\n"));
        std::string_view head(text.data(), std::min(end, text.size()));
        std::string value;
        auto flush = [&] {
            if (value.empty()) return;
            const auto colon = value.find(':');
            expect_same_field_readings(colon == std::string::npos ? value : value.substr(colon + 1));
            ++fields;
            value.clear();
        };
        std::size_t pos = 0;
        while (pos < head.size()) {
            std::size_t eol = head.find('\n', pos);
            if (eol == std::string_view::npos) eol = head.size();
            std::string_view line = head.substr(pos, eol - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) value += line;
            else {
                flush();
                value = std::string(line);
            }
            pos = eol + 1;
            if (::testing::Test::HasFatalFailure()) return;
        }
        flush();
        if (::testing::Test::HasFatalFailure()) return;
    }
    EXPECT_GT(fields, 1000u);
}
