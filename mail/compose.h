#pragma once
// RFC 5322 / MIME composition of the mail ticketd sends. Pure: data in, bytes (CRLF) out.
//
// Everything that reaches a header from a mail or a template (names, subjects, addresses,
// Message-IDs, file names) passes through one of the encoders here, which neutralise CR, LF and
// NUL: no input can add a header or end the header block. Non-ASCII text is RFC 2047 encoded
// (UTF-8, "B" words of at most 75 characters, never splitting a UTF-8 sequence); lines are
// folded below 78 characters where the text allows.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ticketd::mail {

struct Mailbox {
    std::string name;     ///< display name, UTF-8, may be empty
    std::string address;  ///< local@domain
};

struct OutgoingAttachment {
    std::string filename;      ///< UTF-8; written per RFC 2231
    std::string content_type;  ///< "application/pdf"; anything malformed becomes application/octet-stream
    std::string data;          ///< the bytes; always base64 on the wire
};

/// RFC 3834: what made this mail. Everything ticketd sends on its own is auto_replied (an
/// answer to a message) or auto_generated (a reminder); an agent's relayed reply is none.
enum class AutoSubmitted { none, auto_replied, auto_generated };

struct OutgoingMail {
    Mailbox from;
    std::vector<Mailbox> to, cc;
    std::optional<Mailbox> reply_to;
    std::string subject;      ///< UTF-8, one line (line breaks become spaces)
    std::string message_id;   ///< without angle brackets
    std::vector<std::string> in_reply_to, references;  ///< without angle brackets, oldest first
    std::chrono::sys_seconds date{};
    std::string text;         ///< UTF-8 text/plain body (LF or CRLF line ends)
    std::string html;         ///< optional text/html alternative
    std::vector<OutgoingAttachment> attachments;
    AutoSubmitted auto_submitted = AutoSubmitted::none;
    /// Further fields (e.g. "X-Ticketd-Ticket"). Names that are not RFC 5322 field names, or
    /// that ticketd writes itself, are dropped; values are encoded like unstructured text.
    std::vector<std::pair<std::string, std::string>> extra_headers;
};

/// The whole message, CRLF line ends, ready for SMTP DATA (dot-stuffing is the transport's job).
std::string compose(const OutgoingMail& mail);

// The building blocks, public for tests.

/// `name: value` for unstructured text (Subject, extras): RFC 2047 where needed, folded.
std::string unstructured_field(std::string_view name, std::string_view value);
/// `name: A <a@x>, "B, Jr." <b@y>` with encoded or quoted display names, folded.
std::string address_field(std::string_view name, const std::vector<Mailbox>& boxes);
/// `local@domain` made safe: controls and whitespace removed, a local part that is not a
/// dot-atom quoted. "" when nothing usable is left.
std::string addr_spec(std::string_view address);
/// "Wed, 02 Dec 2026 01:09:24 +0000".
std::string rfc5322_date(std::chrono::sys_seconds t);
/// Base64 with CRLF every 76 characters.
std::string base64_lines(std::string_view data);
/// Quoted-printable (RFC 2045) of text with CRLF line ends; soft breaks keep lines <= 76.
std::string quoted_printable(std::string_view text);
/// `filename="a.pdf"` or the RFC 2231 form `filename*=UTF-8''%C3%A9t%C3%A9.pdf` (with
/// continuations `filename*0*=` for long names).
std::string filename_parameter(std::string_view filename);

}  // namespace ticketd::mail
