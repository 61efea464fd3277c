#pragma once
// The parsed form of one email: everything later stages (threading, rules, store) read.
// Plain data, no behaviour; produced by parsers::parse() (parse.h).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::parsers {

/// One mailbox from an address header. `name` is the decoded display name ("" when absent).
struct Address {
    std::string name;
    std::string address;  ///< local@domain as written (domain may be lower-cased)
};

/// One header field as it appeared, in order. `value` is unfolded and RFC 2047-decoded UTF-8.
struct Header {
    std::string name;   ///< as written, e.g. "Content-Type"
    std::string value;  ///< unfolded, decoded UTF-8
};

/// Who wrote the message, as far as loop prevention is concerned.
enum class Classification {
    requester,   ///< a human wrote it: may be answered
    auto_reply,  ///< RFC 3834 / vendor auto-responders, vacation mail, other machine-made mail
    bounce,      ///< a delivery status notification (RFC 3464 or an MTA's own format)
    list,        ///< mailing-list or bulk traffic
};
const char* to_string(Classification c);

/// One non-multipart MIME part, in depth-first document order, descending into message/rfc822.
struct Leaf {
    std::string content_type;  ///< lower-case "type/subtype"; "text/plain" when missing
    std::string charset;       ///< declared charset, lower-case, "" when none
    std::string disposition;   ///< "inline", "attachment" or ""
    std::string filename;      ///< decoded UTF-8 (RFC 2231 / 2047), "" when none
    std::string content_id;    ///< without angle brackets
    std::string data;          ///< bytes after transfer decoding (base64, QP, uuencode)
    /// The UTF-8 text of a text leaf when it differs from `data` (another charset, repaired
    /// bytes). Empty when `data` already is its own UTF-8 (ASCII or valid UTF-8: most mail),
    /// so that the bytes are held once. Read the text through text().
    std::string converted;
    bool is_text = false;      ///< text() is meaningful (text/* leaves, and bytes shown as text)
    bool text_is_data = false; ///< text() is `data` itself (`converted` is empty)
    /// Declared as text (or shown as text) but evidently binary (looks_binary, charset.h): not
    /// converted, never the body, listed as an attachment. is_text is false then.
    bool binary = false;
    /// Lower-case hex SHA-256 of `data`: filled for every leaf that becomes an attachment
    /// (extract_body); "" for the text a ticket shows and a forward's text, which nothing stores by
    /// hash (the summary computes it: leaf_sha256).
    std::string sha256;
    int depth = 0;             ///< MIME nesting depth (0 = top-level body)
    bool in_rfc822 = false;    ///< inside an attached message/rfc822

    /// Text leaves: `data` converted to UTF-8; "" for other leaves.
    std::string_view text() const {
        if (!is_text) return {};
        return text_is_data ? std::string_view(data) : std::string_view(converted);
    }
    /// Make this a text leaf whose UTF-8 text is `utf8` (held apart from `data`).
    void set_text(std::string utf8) {
        is_text = true;
        text_is_data = false;
        converted = std::move(utf8);
    }
};

/// A file the ticket shows as attached (a leaf that is not the displayed body).
struct Attachment {
    std::string filename;      ///< decoded, as the sender gave it (never trusted as a path)
    std::string content_type;
    std::string content_id;
    bool inline_image = false; ///< referenced from the HTML body (cid:) or disposition inline
    std::uint64_t size = 0;
    std::string sha256;
    std::size_t leaf_index = 0;  ///< index into Message::leaves
};

/// A forwarded message (message/rfc822 part) kept as such.
struct Forwarded {
    std::string subject;
    std::vector<Address> from;
    std::string message_id;
    std::string raw;  ///< the enclosed message's bytes
};

/// What a delivery report says: which of our messages failed, for whom, why.
struct BounceInfo {
    std::string original_message_id;           ///< Message-ID of the message that bounced
    std::vector<std::string> failed_recipients;
    std::string status;                        ///< RFC 3463 status, e.g. "5.1.1"
    std::string diagnostic;                    ///< remote MTA's words
    bool permanent = true;                     ///< 5.x.x (or unknown) vs 4.x.x delay
};

/// Something was wrong but the message was still usable (e.g. bad charset, broken base64).
struct ParseWarning {
    std::string what;
};

// A member added here must be added to holds_only_size_and_warnings (parsers/mime.cpp) too.
struct Message {
    // --- headers
    std::vector<Header> headers;  ///< every field, in order
    std::string subject;          ///< decoded UTF-8, "" when absent
    std::vector<Address> from, sender, reply_to, to, cc, bcc;
    std::string return_path;       ///< without angle brackets; "" when null <> or absent
    bool has_return_path = false;  ///< a Return-Path header was present (null or not)
    std::string message_id;        ///< without angle brackets, "" when absent
    std::vector<std::string> in_reply_to;  ///< message ids without angle brackets
    std::vector<std::string> references;   ///< oldest first
    std::optional<std::chrono::sys_seconds> date;  ///< UTC; nullopt when missing/unparseable
    std::string date_raw;

    // --- MIME
    std::vector<Leaf> leaves;
    std::vector<Forwarded> forwarded;
    std::vector<Attachment> attachments;

    // --- what a ticket shows
    std::string body;         ///< the displayed text: text/plain preferred, else HTML as text
    std::string body_html;    ///< the HTML alternative, if any (raw, never rendered unsanitised)
    std::string new_text;     ///< the part of `body` the sender wrote now
    std::string quoted_text;  ///< quoted history removed from `new_text`
    std::string signature;    ///< signature block removed from `new_text`

    // --- classification (loop prevention)
    Classification classification = Classification::requester;
    std::string classification_reason;  ///< e.g. "Auto-Submitted: auto-replied"
    std::optional<BounceInfo> bounce;

    std::vector<ParseWarning> warnings;
    std::uint64_t raw_size = 0;

    /// First header named `name` (case-insensitive), or nullptr.
    const Header* header(std::string_view name) const;
    /// All headers named `name` (case-insensitive), in order.
    std::vector<const Header*> headers_named(std::string_view name) const;
    /// Who wrote it: the first From, else the first Sender; null when neither has an address.
    const Address* author() const {
        if (!from.empty()) return &from.front();
        if (!sender.empty()) return &sender.front();
        return nullptr;
    }
};

}  // namespace ticketd::parsers
