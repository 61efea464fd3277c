#pragma once
// Header field decoding: RFC 2047 encoded words, RFC 2231 parameters, address lists,
// message-id lists and dates. Tolerant of the malformed forms real mail carries; never throws.

#include <chrono>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/message.h"

namespace ticketd::parsers {

/// Unstructured text -> UTF-8: encoded words decoded (also when glued to other text, with
/// spaces inside Q words, or split mid-character across adjacent words), blanks between
/// adjacent encoded words dropped, raw 8-bit text taken as UTF-8 if valid else windows-1252.
std::string decode_rfc2047(std::string_view value);
/// True when `value` holds no "=?", no ISO-2022-JP escape and is valid UTF-8: then it is its own
/// decoded form (decode_rfc2047 returns it as it is) and needs no copy to be read as such.
bool is_decoded_header_text(std::string_view value);

/// `name=value` parameters after the first `;` (RFC 2045), folded with RFC 2231: `name*=`
/// charset'lang'%XX, continuations `name*0`, `name*1*`, ... in any order. Values are decoded
/// to UTF-8 (2047 words inside quoted values too). Names are lower-cased.
using Params = std::vector<std::pair<std::string, std::string>>;
Params parse_params(std::string_view value_after_type);
/// Fold raw (name, value) pairs, as a MIME library split them, with RFC 2231.
Params fold_params(const std::vector<std::pair<std::string, std::string>>& raw);
/// The same over pairs of views (a Content-Type split in place: no copy of every pair first).
Params fold_params(std::span<const std::pair<std::string_view, std::string_view>> raw);
/// fold_params(raw) with only the parameters named in `names` (lower-case), in the same order
/// and with the same values: the others are not read (a multipart's boundary, format=flowed...).
Params fold_params_only(std::span<const std::pair<std::string_view, std::string_view>> raw,
                        std::initializer_list<std::string_view> names);
/// Value of parameter `name` or "" (names compared lower-case).
std::string param(const Params& p, std::string_view name);
/// param() without the copy: a view of the value in `p`.
std::string_view param_view(const Params& p, std::string_view name);

/// "type/subtype; params" -> lower-case type/subtype ("" when absent or malformed) and params.
struct ContentTypeValue {
    std::string type, subtype;
    Params params;
};
/// `with_params` false: type and subtype only (the same as with them), params left empty.
ContentTypeValue parse_content_type(std::string_view value, bool with_params = true);

/// Address list (From, To, Cc, ...): display names from phrases, quoted strings or comments;
/// groups flattened to their members; addresses without angle brackets; source routes dropped.
std::vector<Address> parse_address_list(std::string_view value);

/// `<a@b> <c@d>` (also comma- or space-separated, brackets missing) -> ids without brackets.
std::vector<std::string> parse_msg_ids(std::string_view value);

/// RFC 5322 date, plus obsolete forms: two-digit years, named and military zones, missing
/// seconds or zone, day-of-week missing or wrong. -> UTC.
std::optional<std::chrono::sys_seconds> parse_date(std::string_view value);

/// ISO 8601 UTC, "2024-05-01T12:00:00Z".
std::string format_iso8601(std::chrono::sys_seconds t);

/// Lower-case ASCII copy.
std::string ascii_lower(std::string_view s);
/// Trim blanks, CR and LF both ends.
std::string_view trim(std::string_view s);

}  // namespace ticketd::parsers
