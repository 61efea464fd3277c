#pragma once
// What a ticket shows of a message: the body text, the new text apart from quoted history and
// signature, and which leaves are attachments. Pure functions over a parsed Message.

#include <string>
#include <string_view>

#include "parsers/message.h"

namespace ticketd::parsers {

/// Fill body, body_html, new_text, quoted_text, signature and attachments from m.leaves.
void extract_body(Message& m);

/// Readable plain text from HTML (scripts, styles and comments dropped; links kept as text).
std::string html_to_text(std::string_view html);

struct ReplySplit {
    std::string new_text;     ///< what the sender wrote now
    std::string quoted_text;  ///< the quoted history ("> ...", "On ... wrote:", Outlook headers)
    std::string signature;    ///< "-- " blocks and common mobile signatures
};
ReplySplit split_reply(std::string_view text);

/// RFC 3676 format=flowed text as plain lines: soft breaks (a trailing space) joined, space
/// stuffing removed, quote depth kept as "> " prefixes. `delsp`: DelSp=yes (drop that space).
std::string unflow(std::string_view text, bool delsp);

}  // namespace ticketd::parsers
