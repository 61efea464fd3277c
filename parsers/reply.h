#pragma once
// Line-level recognisers behind split_reply (body.h), exposed for tests and for other
// heuristics (bounce bodies quote Outlook headers too).

#include <cstddef>
#include <string>
#include <string_view>

namespace ticketd::parsers::reply {

/// "On <date>, <name> wrote:" and its German, French, Spanish, Dutch, Italian, Portuguese,
/// Swedish/Danish/Norwegian, Finnish, Polish and Czech forms. `line` may be two physical lines
/// joined with a space (clients wrap long attributions).
/// `next_is_quote`: the following non-blank line starts with '>' (then a bare "<name> wrote:"
/// counts too, without the leading "On"/"Am"/... word).
bool is_attribution(std::string_view line, bool next_is_quote);

/// "-----Original Message-----", Thunderbird/Gmail/Apple forward and original-message markers,
/// in the same languages.
bool is_separator_marker(std::string_view line);

/// A header-ish line of a quoted Outlook block: which field it names, or 0.
/// 'f' From, 's' Sent/Date, 't' To/Cc, 'j' Subject.
char outlook_field(std::string_view line);

/// "Sent from my iPhone" and the like, in the same languages.
bool is_mobile_signature(std::string_view line);

/// What the recognisers compare: `line` lower-cased (ASCII), U+00A0 and U+202F as spaces, U+FF1A
/// as ':', runs of blanks as one space, '*' dropped, ends trimmed; at most `cap` bytes of it
/// (`complete`: nothing was cut). Exposed so tests can hold its fast path to a byte-wise one.
std::string normalise(std::string_view line, std::size_t cap, bool& complete);

}  // namespace ticketd::parsers::reply
