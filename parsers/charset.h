#pragma once
// Bytes in a declared (or undeclared) charset -> UTF-8, through iconv. No hand-made tables.

#include <cstddef>
#include <string>
#include <string_view>

namespace ticketd::parsers {

/// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// True when the bytes carry ISO-2022-JP escape sequences (ESC $ B, ESC $ @, ESC ( J, ...).
bool looks_like_iso2022jp(std::string_view s);

/// The iconv name for a MIME charset label: lower-cased, quotes and blanks removed, common
/// aliases and mislabels mapped ("ks_c_5601-1987" -> CP949, "x-sjis" -> SHIFT_JIS, ...).
/// Returns "" for labels that mean "no real charset" (us-ascii, unknown-8bit, x-unknown, "").
std::string iconv_charset_name(std::string_view label);

struct Converted {
    std::string text;
    bool exact = true;  ///< false: the declared charset was unknown/wrong or bytes were replaced
    bool same = false;  ///< to_utf8_or_same only: the bytes are their own UTF-8, `text` is empty
};

/// Convert to UTF-8. Undeclared or unusable charset: UTF-8 if valid, else windows-1252.
/// ISO-2022-JP escapes win over a missing or ASCII declaration. Invalid sequences become
/// U+FFFD; the result is always valid UTF-8.
Converted to_utf8(std::string_view bytes, std::string_view charset);

/// to_utf8 without the copy when the result would be the input itself (ASCII, valid UTF-8):
/// then `same` is set and `text` left empty. Every other field as to_utf8 would set it.
Converted to_utf8_or_same(std::string_view bytes, std::string_view charset);

/// How many leading bytes looks_binary() reads: git's buffer_is_binary() window.
inline constexpr std::size_t kBinaryProbeBytes = 8000;

/// True when the bytes of a part declared as text are evidently not text (a TNEF blob, a JPEG,
/// a PDF sent as text/plain), judged once on the first kBinaryProbeBytes bytes (git's
/// buffer_is_binary() window): more than 1 in 32 of them (and at least two) are bytes that
/// file(1)'s text_chars table never calls text (NUL, 0x01-0x06, 0x10-0x1A, 0x1C-0x1F, 0x7F;
/// BEL, BS, TAB, LF, VT, FF, CR and ESC are text, and so are SO/SI here, which ISO-2022-KR/CN
/// shift with). Compressed or random data has about 9%; text has next to none, but a stray NUL
/// does occur in real mail, so one such byte alone (git's rule) is not enough. Text declared as
/// UTF-16, UTF-32 or UCS-2/4, or starting with a UTF-16/32 byte order mark, holds NULs by design
/// and is never binary here. 8-bit bytes never count: latin-1, windows-1251/1252 and broken
/// UTF-8 stay text.
bool looks_binary(std::string_view bytes, std::string_view charset);

/// Force any byte string into valid UTF-8 (windows-1252 fallback when it is not UTF-8).
std::string sanitize_utf8(std::string_view bytes);

}  // namespace ticketd::parsers
