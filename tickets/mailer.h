#pragma once
// Queueing ticketd's own mail about a ticket (issue 5): the outbox row, its Message-ID on the
// ticket (so an answer threads back by In-Reply-To), and an `outbox.queued` event, all in the
// caller's transaction (DESIGN.md #3). Every writer of ticket mail (acknowledgements, agent
// notifications and relays, SLA reminders, delivery-failure notices) takes its Message-ID
// sequence from next_outgoing_seq, so two of them can never mint the same Message-ID (the
// outbox's UNIQUE key would refuse the second, and with it the message that caused it).

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/templates.h"
#include "parsers/message.h"
#include "mail/compose.h"
#include "store/tickets.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

/// The sequence number for the ticket's next Message-ID of ours: after every one already in its
/// outbox (whoever wrote it), and never below the number of rows.
std::int64_t next_outgoing_seq(store::Database& db, const store::Ticket& t);

class Mailer {
public:
    /// `message_row`: the message the mail is about (or its copy on the ticket); `inbox_id` 0
    /// when the mail is not caused by an inbox entry (a timer, the CLI).
    Mailer(store::Database& db, const config::Config& cfg, const store::Ticket& t,
           std::optional<std::int64_t> message_row, std::int64_t inbox_id, std::int64_t now);

    /// An event on the ticket's trail, tied to the message and inbox entry.
    void event(const std::string& kind, const std::string& detail);
    /// A fresh Message-ID of ours for this ticket (next_outgoing_seq).
    std::string next_message_id();
    /// The tag in the subject whatever the template did: it is what threads the answer.
    std::string subject(std::string s) const;
    /// Automatic mail to one address is limited per hour (auto_reply.max_per_sender_per_hour):
    /// nothing a stranger can trigger may flood an inbox or feed a loop.
    bool over_limit(const std::string& address);
    /// Queue `m` (Date and, when empty, Message-ID are set here); returns the outbox id.
    std::int64_t queue(const std::string& kind, mail::OutgoingMail m, const std::string& auto_to);
    /// A mail from the desk (smtp.from, Reply-To smtp.reply_to, the desk's name).
    mail::OutgoingMail from_desk() const;
    /// A rendered template from the desk to `to`, the tag in its subject, threaded as an answer
    /// to `about` when that has a Message-ID (In-Reply-To it, References its chain and it).
    mail::OutgoingMail from_desk(const config::RenderedMail& r, mail::Mailbox to, const parsers::Message* about,
                                 mail::AutoSubmitted auto_submitted) const;

private:
    store::Database& db_;
    const config::Config& cfg_;
    const store::Ticket& t_;
    std::optional<std::int64_t> message_row_;
    std::int64_t inbox_id_;
    std::int64_t now_;
};

}  // namespace ticketd::tickets
