#pragma once
// The ingest pipeline: inbox row -> parse -> thread -> ONE transaction (ticket, message,
// participants, attachments, Message-IDs, events, inbox row done). Both entry paths (IMAP poller
// and `ticketd ingest`) end here.
//
// Expected outcomes are values (ProcessOutcome). A message that cannot be parsed or recorded is
// quarantined and the next one goes on. Temporary store errors (busy, disk full, I/O) are thrown
// as store::Error with temporary() == true and leave the inbox row pending, so the caller retries
// (`ticketd ingest` exits 75).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "parsers/message.h"
#include "rules/rules.h"
#include "store/tickets.h"
#include "tickets/threading.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

enum class Outcome {
    created,              ///< a new ticket
    appended,             ///< added to an open ticket (or an automatic mail recorded on any ticket)
    reopened,             ///< a reply to a resolved/closed ticket within the reopen window
    linked,               ///< a reply after the window: a new ticket linked to the old one
    duplicate,            ///< already stored (same Message-ID and content): nothing new
    unmatched_automatic,  ///< bounce/auto-reply that belongs to no ticket: kept in the inbox
    spam,                 ///< a rule said spam: kept in the inbox, no ticket, no reply; releasable
    quarantined,          ///< could not be parsed or recorded: kept raw with the error
    not_found,            ///< no such inbox entry
    rated,                ///< the requester's satisfaction rating of a resolved ticket: no reopen
};
const char* to_string(Outcome o);
std::optional<Outcome> parse_outcome(std::string_view s);

struct ProcessOutcome {
    Outcome outcome = Outcome::not_found;
    std::int64_t inbox_id = 0;
    std::optional<std::int64_t> ticket_id;      ///< tickets.id
    std::optional<std::int64_t> ticket_number;  ///< what people see: #1042
    std::optional<std::int64_t> message;        ///< messages.id of the stored message
    std::optional<std::int64_t> linked_from;    ///< for `linked`: the closed ticket's number
    Signal signal = Signal::none;
    std::string detail;              ///< evidence, or the error for `quarantined`
    bool already_processed = false;  ///< the entry was processed earlier; nothing changed now
};

/// What later stages (rules, outbox, SLA: their own issues) receive, inside the message's
/// transaction, so whatever they write commits with the message or not at all (DESIGN.md #3).
struct Ingested {
    const parsers::Message& message;
    const ThreadDecision& decision;
    const ProcessOutcome& outcome;  ///< outcome, ticket and message row so far
    const store::Ticket& ticket;    ///< as it stands after this message
    const config::Config& config;
    /// What the admins' rules decided (auto_reply, notify, ...); already applied to `ticket`.
    const rules::Outcome* rules = nullptr;
};
/// A hook throwing aborts the transaction; the message is then quarantined (or retried later for
/// a temporary store error).
using Hook = std::function<void(store::Database&, const Ingested&)>;

class Pipeline {
public:
    Pipeline(store::Database& db, std::shared_ptr<const config::Config> config);

    /// Use a new config snapshot from the next message on (reload).
    void set_config(std::shared_ptr<const config::Config> config);
    /// Run after a message is recorded on a ticket (not for duplicates, unmatched or quarantined).
    void add_hook(Hook hook);

    /// Process one inbox entry. An entry already done or quarantined is reported, not redone.
    ProcessOutcome process(std::int64_t inbox_id);
    /// Process every pending entry, oldest first; quarantines do not stop the run. Commits every
    /// `per_commit` messages (each still all-or-nothing on its own). Returns how many were
    /// processed. Throws only temporary store errors; the uncommitted batch stays pending.
    int process_pending(int per_commit = 64);
    /// An admin says a message the rules kept as spam is not: it is processed now, in one
    /// transaction, with the rules' spam verdict ignored (their other actions still apply).
    /// `not_found` when the entry is not spam.
    ProcessOutcome release_spam(std::int64_t inbox_id);
    /// Mail entered by `ticketd ingest` (source pipe or file) counts as coming through a mailbox
    /// trusted for agents (`ingest --trusted-agents`, issue 5); IMAP mailboxes say it in config.
    void set_trusted_ingest(bool trusted) { trusted_ingest_ = trusted; }

private:
    /// `source`: the inbox entry's source ("imap:NAME/...", "ingest"), which decides whether
    /// the mailbox is trusted for agents.
    ProcessOutcome record(std::int64_t inbox_id, const std::string& source, const parsers::Message& msg,
                          const config::Config& cfg);
    ProcessOutcome quarantine(std::int64_t inbox_id, const std::string& error);

    store::Database& db_;
    std::shared_ptr<const config::Config> config_;
    std::vector<Hook> hooks_;
    std::int64_t spam_released_ = 0;  ///< the inbox entry release_spam() is processing
    bool trusted_ingest_ = false;
};

/// The hash that decides "same message" across deliveries: Message-ID, From, Date, Subject,
/// body and attachment hashes, but none of the transport headers (Received, Delivered-To) that
/// differ when one mail reaches us through two addresses.
std::string content_hash(const parsers::Message& msg);

/// `ticketd ingest` in one call: the raw bytes into the inbox and their processing, in one
/// transaction. On return everything is committed (a message that cannot be processed is kept raw
/// and quarantined); on a temporary store::Error nothing is, and the caller must keep the mail and
/// retry (EX_TEMPFAIL). Identical bytes ingested twice report `duplicate` with the first ticket.
ProcessOutcome ingest_raw(store::Database& db, std::shared_ptr<const config::Config> config,
                          const std::string& source, std::string_view raw,
                          bool trusted_agents = false);

}  // namespace ticketd::tickets
