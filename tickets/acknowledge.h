#pragma once
// The acknowledgement of a new ticket (issue 5): a pipeline hook that, inside the message's
// transaction, queues "we opened #N" to the requester in the outbox, or records on the ticket
// why it did not (DESIGN.md #6: never to automatic mail, lists, bounces, our own addresses or
// agents, at most N automatic mails per sender and hour).

#include <optional>
#include <string>

#include "config/templates.h"
#include "mail/compose.h"
#include "tickets/pipeline.h"

namespace ticketd::tickets {

/// Why a new ticket's requester gets no acknowledgement; nullopt when one is due. Pure:
/// `automatic_last_hour` is how many automatic mails that address got in the last hour.
std::optional<std::string> acknowledgement_refusal(const Ingested& ing, int automatic_last_hour);
/// The same judgement of any mail `m` of a requester (CSAT asks it of the mail that opened the
/// ticket): the one place that decides who never gets automatic mail from us.
std::optional<std::string> automatic_mail_refusal(const parsers::Message& m, const config::Config& cfg,
                                                  int automatic_last_hour);

/// The template variables for mail about `ticket`, answering `message` (may be null).
config::TemplateContext mail_context(const config::Config& cfg, const store::Ticket& ticket,
                                     const parsers::Message* message, bool is_new);

/// The acknowledgement as a mail (pure): rendered template, threading headers, Message-ID
/// `N.token.rSEQ@host`, Auto-Submitted: auto-replied.
mail::OutgoingMail acknowledgement_mail(const Ingested& ing, const config::MailTemplate& tmpl,
                                        std::int64_t seq, std::int64_t now);

/// The hook: runs for every recorded message; acts on new tickets only (created or linked).
void acknowledge_new_ticket(store::Database& db, const Ingested& ing);

}  // namespace ticketd::tickets
