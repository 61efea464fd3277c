#pragma once
// bytes -> Message. The one entry point the rest of ticketd calls.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "parsers/message.h"

namespace ticketd::parsers {

/// Caps against hostile input; every one, when exceeded, is a clear ParseError.
struct Limits {
    std::size_t max_message_bytes = 64u << 20;  ///< whole message
    std::size_t max_header_line = 64u << 10;    ///< one unfolded header field
    std::size_t max_header_bytes = 1u << 20;    ///< whole header block of one part
    std::size_t max_parts = 2000;               ///< MIME parts in total
    int max_depth = 40;                         ///< multipart / rfc822 nesting
};

struct ParseError {
    std::string code;     ///< stable: "too_large", "header_too_long", "too_many_parts", "too_deep", ...
    std::string message;  ///< for humans
};

using ParseResult = std::variant<Message, ParseError>;

/// Parse, decode, extract the body and classify. Never throws on bad input.
ParseResult parse(std::string_view raw, const Limits& limits = {});

}  // namespace ticketd::parsers
