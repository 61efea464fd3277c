#pragma once
// The references ticketd puts in the mail it sends, and reads back from replies:
//   subject tag   [ACME #1042 7f3a9c0b1d]        (PREFIX, number, token)
//   Message-ID    1042.7f3a9c0b1d.r5@host         (number, token, sequence, our hostname)
//   plus address  support+1042.7f3a9c0b1d@domain
// The token is random per ticket, so a guessed number alone never threads (DESIGN.md #8).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ticketd::tickets {

/// Hex characters in a fresh token (40 bits from getrandom()).
inline constexpr std::size_t kTokenLength = 10;

/// A fresh random token: kTokenLength lower-case hex characters from getrandom().
std::string new_token();
/// Plausible token syntax: 6 to 32 hex characters.
bool looks_like_token(std::string_view s);

/// "1042.7f3a9c0b1d.r5@support.example.com" (no angle brackets, as parsers::Message keeps ids).
std::string make_message_id(std::int64_t number, std::string_view token, std::int64_t seq,
                            std::string_view host);

struct OurMessageId {
    std::int64_t number = 0;
    std::string token;
    std::int64_t seq = 0;
    std::string host;
};
/// Parse an id of our format (angle brackets optional); nullopt for anything else.
std::optional<OurMessageId> parse_message_id(std::string_view id);

/// "[ACME #1042 7f3a9c0b1d]"; without a token "[ACME #1042]".
std::string format_subject_tag(std::string_view prefix, std::int64_t number,
                               std::string_view token = {});

struct SubjectTag {
    std::int64_t number = 0;
    std::string token;  ///< "" when the tag carries none
    std::size_t pos = 0, len = 0;  ///< where the tag sits in the subject
};
/// The first "[PREFIX #N]" / "[PREFIX #N token]" in `subject` (prefix case-insensitive; the
/// separator before the token may be a space, '·', '-', '/', ':' or '.').
std::optional<SubjectTag> parse_subject_tag(std::string_view subject, std::string_view prefix);

/// `subject` without any of our tags and with the space they leave tidied.
std::string strip_subject_tags(std::string_view subject, std::string_view prefix);

/// "support+1042.7f3a9c0b1d@example.com" for our address "support@example.com".
std::string make_plus_address(std::string_view our_address, std::int64_t number,
                              std::string_view token);

struct PlusAddress {
    std::string base;  ///< "support@example.com", lower-case
    std::int64_t number = 0;
    std::string token;  ///< "" when only the number was given
};
/// Split "local+N.token@domain"; nullopt when there is no "+N" detail.
std::optional<PlusAddress> parse_plus_address(std::string_view address);

}  // namespace ticketd::tickets
