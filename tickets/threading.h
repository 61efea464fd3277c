#pragma once
// Which ticket does a message belong to? A pure function over the parsed message, the desk
// config and a read-only lookup, so every signal and every lesson in DESIGN.md is a unit test.
//
// Order (strong evidence before weak):
//   0. the message's own Message-ID is already stored (same mail via another address/mailbox);
//      for bounces, the Message-ID the report is about;
//   1. In-Reply-To, then References (newest first), naming a message we stored or sent;
//   2. our subject tag with a token that checks out: in the tag, or in a referenced Message-ID of
//      ours (<1042.7f3a9c0b1d.r5@host>) even if we never stored it; a referenced Message-ID of
//      ours with a valid token also threads without a tag;
//   3. plus address support+N.token@domain in To/Cc/Delivered-To/X-Original-To;
//   then the weak forms, only for people already on that ticket: a tag or plus address without
//   a valid token;
//   4. otherwise no ticket (the pipeline opens one, unless the mail is automatic).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "parsers/message.h"
#include "store/tickets.h"

namespace ticketd::tickets {

/// What threading needs to know about a ticket.
struct TicketRef {
    std::int64_t id = 0;
    std::int64_t number = 0;
    store::Status status = store::Status::open;
    std::optional<std::int64_t> closed_at;
    std::int64_t updated_at = 0;
};

/// Read-only questions threading asks; the store answers them (StoreLookup), tests fake them.
class ThreadLookup {
public:
    virtual ~ThreadLookup() = default;
    /// The ticket holding a message we stored or sent with this Message-ID (no brackets).
    virtual std::optional<TicketRef> by_message_id(std::string_view message_id) const = 0;
    virtual std::optional<TicketRef> by_number(std::int64_t number) const = 0;
    virtual bool token_matches(std::int64_t ticket_id, std::string_view token) const = 0;
    virtual bool is_participant(std::int64_t ticket_id, std::string_view address) const = 0;
};

enum class Signal {
    none,
    message_id,         ///< its own Message-ID is already on a ticket
    bounce_report,      ///< a DSN about a message of that ticket
    in_reply_to,
    references,
    our_message_id,     ///< a referenced Message-ID of our format with a valid token
    subject_tag,        ///< tag with a valid token (in the tag or in a referenced id of ours)
    plus_address,       ///< support+N.token@ with a valid token
    tag_participant,    ///< tag without a valid token, sender already a participant
    plus_participant,   ///< plus address without a valid token, sender already a participant
};
const char* to_string(Signal s);

struct ThreadDecision {
    std::optional<TicketRef> ticket;  ///< nullopt: no existing ticket
    Signal signal = Signal::none;
    std::string evidence;              ///< for the trail: what matched and why
    std::vector<std::string> refused;  ///< signals seen but not trusted, and why
    /// Tokens (in a subject tag, plus address or Message-ID of ours) given for an existing
    /// ticket that did not check out, counted when no ticket matched: a stranger guessing.
    int wrong_tokens = 0;
};

ThreadDecision thread(const parsers::Message& msg, const config::DeskConfig& desk,
                      const ThreadLookup& lookup);

/// A human's reply to an existing ticket: append, reopen (resolved/closed within the window),
/// or start a new ticket linked to the old one (closed longer ago).
enum class ReplyAction { append, reopen, new_linked };
ReplyAction reply_action(const TicketRef& t, std::int64_t now, std::chrono::seconds reopen_window);

/// The host our Message-IDs use: desk.hostname, else the domain of desk.addresses[0].
std::string our_host(const config::DeskConfig& desk);
/// One of desk.addresses (case-insensitive).
bool is_our_address(const config::DeskConfig& desk, std::string_view address);

}  // namespace ticketd::tickets
