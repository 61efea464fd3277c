#pragma once
// Bounces of our own mail (issue 5, DESIGN.md #6): a delivery report that threads onto a ticket
// is matched to the outbox row it reports on and recorded as that row's delivery failure (or
// delay), with an event on the ticket's trail. Bounces never create tickets or replies (the
// pipeline keeps them as automatic mail); this only says which of our mails did not arrive.

#include <optional>
#include <string>
#include <vector>

#include "parsers/message.h"
#include "store/bounces.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {

struct BounceMatch {
    store::SentMail mail;                 ///< the outbox row the bounce reports on
    std::vector<std::string> recipients;  ///< who failed (lower-case); never empty
    std::string how;                      ///< "Message-ID" or "failed recipient": the evidence
};

/// Pure. The bounce's original Message-ID naming one of our outbox rows wins; otherwise the
/// newest mail sent on the ticket to one of the failed recipients (a DSN without the original
/// headers). `by_message_id` is the outbox row with the bounce's original Message-ID, if any;
/// `sent_on_ticket` the ticket's sent rows, newest first. nullopt when nothing matches.
std::optional<BounceMatch> match_bounce(const parsers::BounceInfo& bounce,
                                        const std::optional<store::SentMail>& by_message_id,
                                        const std::vector<store::SentMail>& sent_on_ticket);

/// The pipeline hook: for a bounce recorded on a ticket, the outbox_bounces rows and a
/// `delivery.failed` (or `delivery.delayed`) event; `delivery.unmatched` when the bounce names
/// none of our mail.
void record_delivery_failure(store::Database& db, const Ingested& ing);

}  // namespace ticketd::tickets
