#pragma once
// Bytes in a declared (or undeclared) charset -> UTF-8, through iconv. No hand-made tables.

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

/// Force any byte string into valid UTF-8 (windows-1252 fallback when it is not UTF-8).
std::string sanitize_utf8(std::string_view bytes);

}  // namespace ticketd::parsers
