#include "tickets/pipeline.h"

#include <algorithm>
#include <exception>

#include "parsers/headers.h"
#include "parsers/parse.h"
#include "store/database.h"
#include "store/hash.h"
#include "store/inbox.h"
#include "tickets/acknowledge.h"
#include "tickets/delivery_failures.h"
#include "tickets/sla.h"
#include "tickets/agents.h"
#include "tickets/csat.h"
#include "tickets/ids.h"
#include "tickets/lookup.h"
#include "tickets/token_guessing.h"

namespace ticketd::tickets {

namespace {

std::string tag_text(std::int64_t number) { return "#" + std::to_string(number); }

store::MessageKind kind_of(const parsers::Message& m) {
    switch (m.classification) {
        case parsers::Classification::bounce: return store::MessageKind::bounce;
        case parsers::Classification::auto_reply: return store::MessageKind::auto_reply;
        default: return store::MessageKind::requester;
    }
}

std::vector<store::AddressRecord> addresses(const std::vector<parsers::Address>& v) {
    std::vector<store::AddressRecord> out;
    out.reserve(v.size());
    for (const auto& a : v) out.push_back({a.name, a.address});
    return out;
}

}  // namespace

const char* to_string(Outcome o) {
    switch (o) {
        case Outcome::created: return "created";
        case Outcome::appended: return "appended";
        case Outcome::reopened: return "reopened";
        case Outcome::linked: return "linked";
        case Outcome::duplicate: return "duplicate";
        case Outcome::unmatched_automatic: return "unmatched_automatic";
        case Outcome::spam: return "spam";
        case Outcome::quarantined: return "quarantined";
        case Outcome::not_found: return "not_found";
        case Outcome::rated: return "rated";
    }
    return "not_found";
}

std::optional<Outcome> parse_outcome(std::string_view s) {
    for (auto o : {Outcome::created, Outcome::appended, Outcome::reopened, Outcome::linked,
                   Outcome::duplicate, Outcome::unmatched_automatic, Outcome::spam, Outcome::quarantined,
                   Outcome::not_found, Outcome::rated})
        if (s == to_string(o)) return o;
    return std::nullopt;
}

std::string content_hash(const parsers::Message& msg) {
    store::Sha256 h;
    auto field = [&](std::string_view s) {
        // Length-prefixed, so no two different field lists hash alike.
        h.update(std::to_string(s.size())).update(":").update(s);
    };
    field("ticketd-content-v1");
    field(msg.message_id);
    for (const auto& a : msg.from) field(parsers::ascii_lower(a.address));
    field(msg.date_raw);
    field(msg.subject);
    field(msg.body);
    for (const auto& a : msg.attachments) field(a.sha256);
    return h.hex();
}

Pipeline::Pipeline(store::Database& db, std::shared_ptr<const config::Config> config)
    : db_(db), config_(std::move(config)) {
    // Every path into tickets (daemon, `ticketd ingest`) acknowledges new tickets the same way;
    // it does nothing without smtp: in the config.
    add_hook(acknowledge_new_ticket);
    add_hook(record_delivery_failure);  // bounces of our mail, matched to their outbox row
    add_hook(sla_hook);  // SLA clocks (issue 6); nothing without sla: in the config
    add_hook(notify_agents);  // issue 5: new tickets and requester replies reach the agents
    add_hook(csat_hook);  // issue 9: a resolution asks the requester for a rating; off by default
}

void Pipeline::set_config(std::shared_ptr<const config::Config> config) {
    config_ = std::move(config);
}

void Pipeline::add_hook(Hook hook) { hooks_.push_back(std::move(hook)); }

ProcessOutcome Pipeline::process(std::int64_t inbox_id) {
    store::Inbox inbox(db_);
    ProcessOutcome out;
    out.inbox_id = inbox_id;
    auto entry = inbox.get(inbox_id);
    if (!entry) return out;
    if (entry->state != store::InboxState::pending) {
        out.outcome = parse_outcome(entry->outcome).value_or(
            entry->state == store::InboxState::quarantined ? Outcome::quarantined
                                                           : Outcome::duplicate);
        out.already_processed = true;
        out.detail = entry->error;
        if (entry->ticket) {
            out.ticket_id = entry->ticket;
            if (auto t = store::Tickets(db_).get(*entry->ticket)) out.ticket_number = t->number;
        }
        return out;
    }
    // Hold the snapshot for the whole message even if a reload swaps it meanwhile.
    const auto cfg = config_;
    try {
        const std::string raw = inbox.raw(inbox_id);
        auto parsed = parsers::parse(raw, cfg->limits);
        if (auto* err = std::get_if<parsers::ParseError>(&parsed))
            return quarantine(inbox_id, "parse: " + err->code + ": " + err->message);
        return record(inbox_id, entry->source, std::get<parsers::Message>(parsed), *cfg);
    } catch (const store::Error& e) {
        if (e.temporary()) throw;
        return quarantine(inbox_id, std::string("store: ") + e.what());
    } catch (const std::exception& e) {
        return quarantine(inbox_id, std::string("processing: ") + e.what());
    }
}

int Pipeline::process_pending(int per_commit) {
    store::Inbox inbox(db_);
    int done = 0;
    std::int64_t last = 0;
    for (;;) {
        // Only forward from the last id: an entry left pending (another process holds it) is
        // not retried in a tight loop here.
        const auto ids = inbox.pending_after(last, std::max(1, per_commit));
        if (ids.empty()) break;
        // Group commit: one fsync per batch instead of one per message. Each message still runs
        // in its own savepoint (record() and quarantine() open nested Transactions), so its rows
        // commit together or not at all and a quarantine never undoes its neighbours. The raw
        // bytes are already durable in the inbox: a crash before this commit costs only redoing
        // the batch. A temporary error rolls the whole batch back and leaves it pending.
        store::Transaction batch(db_);
        for (auto id : ids) {
            process(id);
            ++done;
            last = id;
        }
        batch.commit();
    }
    return done;
}

ProcessOutcome Pipeline::release_spam(std::int64_t inbox_id) {
    store::Transaction tx(db_);
    ProcessOutcome out;
    out.inbox_id = inbox_id;
    if (!store::Inbox(db_).release_spam(inbox_id)) return out;  // not_found; nothing changed
    store::Event ev;
    ev.inbox_id = inbox_id;
    ev.at = db_.now();
    ev.kind = "inbox.released";
    ev.detail = "released from spam by an admin: the rules' spam verdict is ignored for it";
    store::Events(db_).add(ev);
    struct Reset {
        std::int64_t& id;
        ~Reset() { id = 0; }
    } reset{spam_released_};
    spam_released_ = inbox_id;
    out = process(inbox_id);
    tx.commit();
    return out;
}

ProcessOutcome Pipeline::quarantine(std::int64_t inbox_id, const std::string& error) {
    store::Transaction tx(db_);
    store::Inbox(db_).quarantine(inbox_id, error);
    store::Event ev;
    ev.inbox_id = inbox_id;
    ev.at = db_.now();
    ev.kind = "inbox.quarantined";
    ev.detail = error;
    store::Events(db_).add(ev);
    tx.commit();
    ProcessOutcome out;
    out.outcome = Outcome::quarantined;
    out.inbox_id = inbox_id;
    out.detail = error;
    return out;
}

ProcessOutcome Pipeline::record(std::int64_t inbox_id, const std::string& source, const parsers::Message& msg,
                                const config::Config& cfg) {
    const auto& desk = cfg.desk;
    store::Transaction tx(db_);
    store::Inbox inbox(db_);
    store::Tickets tickets(db_);
    store::Messages messages(db_);
    store::Events events(db_);
    const std::int64_t now = db_.now();

    ProcessOutcome out;
    out.inbox_id = inbox_id;

    // Another process may have taken this entry between our read and our write lock.
    if (auto e = inbox.get(inbox_id); !e || e->state != store::InboxState::pending) {
        tx.commit();
        return process(inbox_id);
    }

    auto event = [&](std::optional<std::int64_t> ticket, std::optional<std::int64_t> message,
                     std::string kind, std::string detail) {
        store::Event ev;
        ev.ticket = ticket;
        ev.message = message;
        ev.inbox_id = inbox_id;
        ev.at = now;
        ev.kind = std::move(kind);
        ev.detail = std::move(detail);
        events.add(ev);
    };

    // Dedupe (DESIGN.md #2): the same Message-ID with the same content is the same mail arriving
    // again (two of our addresses, a re-fetch after a failed \Seen): nothing new.
    const std::string hash = content_hash(msg);
    bool id_reused = false;
    for (const auto& s : messages.with_message_id(msg.message_id)) {
        if (s.content_hash == hash) {
            inbox.finish(inbox_id, to_string(Outcome::duplicate), s.ticket);
            tx.commit();
            out.outcome = Outcome::duplicate;
            out.ticket_id = s.ticket;
            out.message = s.message;
            if (auto t = tickets.get(s.ticket)) out.ticket_number = t->number;
            out.detail = "Message-ID <" + msg.message_id + "> with the same content is message " +
                         std::to_string(s.message);
            return out;
        }
        id_reused = true;
    }

    const StoreLookup lookup(db_);
    const ThreadDecision decision = thread(msg, desk, lookup);
    out.signal = decision.signal;
    out.detail = decision.evidence;

    const store::MessageKind kind = kind_of(msg);
    const bool automatic =
        kind == store::MessageKind::bounce || kind == store::MessageKind::auto_reply;
    const parsers::Address* from = msg.author();
    // Mail from an agent's address (issue 5): verified and naming its ticket by Message-ID or
    // token, it is the agent working that ticket (agent_work); otherwise it changes no status.
    const AgentSender agent = agent_sender(msg, cfg, trusted_source(source, cfg, trusted_ingest_));
    std::optional<AgentWork> agent_work;
    if (agent.agent && agent.verified && decision.ticket && strong_signal(decision.signal))
        agent_work = prepare_agent_work(msg, cfg, *agent.agent);

    // Automatic mail never opens a ticket: unmatched, it stays visible in the inbox.
    if (automatic && !decision.ticket) {
        inbox.finish(inbox_id, to_string(Outcome::unmatched_automatic), std::nullopt);
        std::string detail = std::string(store::to_string(kind)) + " (" +
                             msg.classification_reason + "): " + decision.evidence;
        for (const auto& r : decision.refused) detail += "; refused " + r;
        event(std::nullopt, std::nullopt, "inbox.unmatched_automatic", detail);
        tx.commit();
        out.outcome = Outcome::unmatched_automatic;
        return out;
    }

    auto new_ticket = [&](std::optional<std::int64_t> linked_to) {
        store::NewTicket n;
        n.token = new_token();
        n.subject = strip_subject_tags(msg.subject, desk.subject_tag);
        if (n.subject.empty()) n.subject = "(no subject)";
        if (from) {
            n.requester_address = from->address;
            n.requester_name = from->name;
        } else {
            n.requester_address = msg.return_path;
        }
        n.created_at = now;
        n.linked_to = linked_to;
        return tickets.create(n);
    };

    // Ticket work up to the rules' verdict runs in a savepoint: spam undoes it (no ticket, no
    // status change), as if the message had never reached one.
    std::optional<store::Transaction> ticket_work;
    ticket_work.emplace(db_);
    store::Ticket ticket;
    bool is_new = false;
    std::optional<RatingReply> rating;  // the requester's answer to our CSAT request
    if (!decision.ticket) {
        ticket = new_ticket(std::nullopt);
        is_new = true;
        out.outcome = Outcome::created;
        event(ticket.id, std::nullopt, "ticket.created",
              "new ticket from " + ticket.requester_address + ": " + decision.evidence);
    } else {
        ticket = *tickets.get(decision.ticket->id);
        if (automatic || agent.agent) {
            // Recorded, never answered, never reopening (zammad#5113, osTicket#1041).
            out.outcome = Outcome::appended;
        } else if ((rating = rating_reply(db_, cfg, ticket, msg))) {
            // A satisfaction rating (issue 9): recorded, the ticket stays resolved, and no hook
            // sees it as a reply (no SLA clock, no agent notification).
            out.outcome = Outcome::rated;
        } else {
            // A late reply to a thread that already has a follow-up ticket belongs there, not
            // in yet another new ticket. Bounded: a chain longer than this is not real mail.
            TicketRef target = *decision.ticket;
            for (int hops = 0; hops < 32 && reply_action(target, now, desk.reopen_window) ==
                                                ReplyAction::new_linked;
                 ++hops) {
                auto next = tickets.follow_up(target.id);
                if (!next) break;
                event(next->id, std::nullopt, "thread.followed",
                      to_string(decision.signal) + std::string(" named ") +
                          tag_text(target.number) + ", which was followed up by " +
                          tag_text(next->number));
                target = to_ref(*next);
                ticket = *next;
            }
            switch (reply_action(target, now, desk.reopen_window)) {
                case ReplyAction::append:
                    out.outcome = Outcome::appended;
                    if (ticket.status == store::Status::pending) {
                        // The requester answered what we were waiting for.
                        tickets.set_status(ticket.id, store::Status::open, now);
                        event(ticket.id, std::nullopt, "ticket.status",
                              "pending -> open: reply from " + (from ? from->address : ""));
                    }
                    break;
                case ReplyAction::reopen:
                    out.outcome = Outcome::reopened;
                    event(ticket.id, std::nullopt, "ticket.reopened",
                          std::string(store::to_string(ticket.status)) +
                              " -> open: reply within the reopen window");
                    tickets.set_status(ticket.id, store::Status::open, now);
                    break;
                case ReplyAction::new_linked: {
                    const store::Ticket old = ticket;
                    ticket = new_ticket(old.id);
                    is_new = true;
                    out.outcome = Outcome::linked;
                    out.linked_from = old.number;
                    event(old.id, std::nullopt, "ticket.followed_up",
                          "reply after the reopen window went to new ticket " +
                              tag_text(ticket.number));
                    event(ticket.id, std::nullopt, "ticket.created",
                          "follow-up of " + tag_text(old.number) + " (" +
                              store::to_string(old.status) +
                              " longer than the reopen window): " + decision.evidence);
                    break;
                }
            }
        }
    }

    // The admins' rules (issue 4) see the message and the ticket as it stood before it.
    rules::Outcome ruled;
    if (!cfg.rules.rules.empty() && !agent_work && !rating) {
        rules::TicketState before;
        if (!is_new) {
            before.status = store::to_string(ticket.status);
            before.priority = store::to_string(ticket.priority);
            before.queue = ticket.queue;
            before.tags = ticket.tags;
        }
        ruled = rules::evaluate(cfg.rules,
                                rules::make_facts(msg, is_new ? rules::Context::new_ticket : rules::Context::reply,
                                                  before, desk.addresses));
    }
    if (ruled.spam && inbox_id != spam_released_) {
        ticket_work.reset();  // rolls the savepoint back
        inbox.finish(inbox_id, to_string(Outcome::spam), std::nullopt);
        std::string detail = "kept as spam, no ticket, no reply (release: ticketd inbox release " +
                             std::to_string(inbox_id) + "); rules:";
        for (const auto& f : ruled.fired) detail += " '" + f.rule + "' (" + f.at.to_string() + ")";
        event(std::nullopt, std::nullopt, "inbox.spam", detail);
        tx.commit();
        ProcessOutcome spam;
        spam.outcome = Outcome::spam;
        spam.inbox_id = inbox_id;
        spam.signal = decision.signal;
        spam.detail = detail;
        return spam;
    }
    ticket_work->commit();

    // The message itself.
    store::MessageRecord rec;
    rec.ticket = ticket.id;
    rec.inbox_id = inbox_id;
    rec.direction = store::Direction::in;
    rec.kind = agent_work ? agent_work->kind() : kind;
    rec.message_id = msg.message_id;
    if (from) {
        rec.from_address = from->address;
        rec.from_name = from->name;
    }
    rec.to = addresses(msg.to);
    rec.cc = addresses(msg.cc);
    rec.subject = msg.subject;
    if (msg.date) rec.date = msg.date->time_since_epoch().count();
    rec.body = msg.body;
    rec.new_text = msg.new_text;
    rec.quoted_text = msg.quoted_text;
    rec.signature = msg.signature;
    rec.headers.reserve(msg.headers.size());
    for (const auto& h : msg.headers) rec.headers.emplace_back(h.name, h.value);
    rec.content_hash = hash;
    rec.thread_signal = is_new && out.outcome != Outcome::linked ? "new"
                                                                 : to_string(decision.signal);
    rec.created_at = now;
    const std::int64_t message_row = messages.add(rec);
    out.message = message_row;
    messages.add_message_id(msg.message_id, ticket.id, message_row, store::Direction::in);

    for (const auto& a : msg.attachments) {
        if (a.leaf_index >= msg.leaves.size()) continue;
        store::AttachmentRecord ar;
        ar.message = message_row;
        ar.filename = a.filename;
        ar.content_type = a.content_type;
        ar.content_id = a.content_id;
        ar.inline_ = a.inline_image;
        messages.add_attachment(ar, msg.leaves[a.leaf_index].data);
    }

    // The trail: what arrived, and why it went where it went.
    {
        std::string detail = std::string(store::to_string(kind)) + " from " +
                             (from ? from->address : std::string("(no From)"));
        if (automatic) detail += " (" + msg.classification_reason + ")";
        detail += ": " + (decision.ticket ? std::string(to_string(decision.signal)) + ": " : "") +
                  decision.evidence;
        event(ticket.id, message_row, automatic ? "message.automatic" : "message.received",
              detail);
    }
    if (agent_work) {
        event(ticket.id, message_row, "agent.verified", agent.agent->address + ": " + agent.evidence);
        apply_agent_mail(db_, *agent_work, msg, cfg, ticket.id, message_row, inbox_id, now);
    } else if (agent.agent && !agent.verified) {
        warn_unverified_agent_mail(db_, agent, msg, cfg, ticket.id, message_row, inbox_id, now);
    } else if (agent.agent) {
        event(ticket.id, message_row, "agent.unthreaded",
              agent.agent->address + ": names no ticket by Message-ID or token (" +
                  to_string(decision.signal) + "), so its commands are not applied");
    }
    if (automatic && decision.ticket &&
        (ticket.status == store::Status::closed || ticket.status == store::Status::resolved))
        event(ticket.id, message_row, "ticket.not_reopened",
              std::string("automatic mail on a ") + store::to_string(ticket.status) +
                  " ticket does not reopen it");
    if (automatic && msg.bounce) {
        std::string d = "status " + msg.bounce->status;
        for (const auto& r : msg.bounce->failed_recipients) d += ", failed " + r;
        if (!msg.bounce->diagnostic.empty()) d += ": " + msg.bounce->diagnostic;
        event(ticket.id, message_row, "bounce.recorded", d);
    }
    for (const auto& r : decision.refused) event(ticket.id, message_row, "thread.refused", r);
    // Guessed tokens (issue 8): counted per sender here, before the acknowledgement hook reads it.
    if (!automatic && !decision.ticket && decision.wrong_tokens > 0 && from)
        if (auto guessing = note_wrong_tokens(db_, cfg, from->address, inbox_id, decision.wrong_tokens, now))
            event(ticket.id, message_row, "threading.token_guessing", *guessing);
    if (id_reused)
        event(ticket.id, message_row, "message.id_reused",
              "Message-ID <" + msg.message_id +
                  "> was already stored with different content; kept both");
    for (const auto& w : msg.warnings) event(ticket.id, message_row, "parse.warning", w.what);
    if (rating) record_rating(db_, cfg, *rating, ticket, msg, message_row, inbox_id, now);

    // What the rules decided, on the ticket; the trail says which rule changed what.
    for (const auto& f : ruled.fired) {
        std::string detail = "'" + f.rule + "' (" + f.at.to_string() + "):";
        for (const auto& c : f.changes) detail += " " + c;
        if (f.changes.empty()) detail += " (no actions)";
        event(ticket.id, message_row, "rule.fired", detail);
    }
    if (ruled.priority)
        if (auto p = store::parse_priority(*ruled.priority)) tickets.set_priority(ticket.id, *p, now);
    if (ruled.status)
        if (auto s = store::parse_status(*ruled.status)) {
            // On the trail like every status change: reports (issue 9) count resolutions from it.
            const store::Status was = tickets.get(ticket.id)->status;
            tickets.set_status(ticket.id, *s, now);
            if (was != *s)
                event(ticket.id, message_row, "ticket.status",
                      std::string(store::to_string(was)) + " -> " + store::to_string(*s) + ": rules");
        }
    if (ruled.queue) tickets.set_queue(ticket.id, *ruled.queue, now);
    if (ruled.assign) tickets.set_assignee(ticket.id, *ruled.assign, now);
    for (const auto& t : ruled.add_tags) tickets.add_tag(ticket.id, t);
    for (const auto& t : ruled.remove_tags) tickets.remove_tag(ticket.id, t);
    if (ruled.spam && inbox_id == spam_released_)
        event(ticket.id, message_row, "rule.spam_ignored", "released by an admin: not spam");

    // People: the sender and everyone they copied join the ticket (reply-all keeps one ticket,
    // and their next reply threads even by a token-less tag). Automatic senders do not.
    if (!automatic) {
        auto join = [&](const parsers::Address& a, const char* role) {
            if (a.address.empty() || is_our_address(desk, a.address)) return;
            if (find_agent(cfg, a.address)) return;  // agents get notifications, not relays
            if (auto pa = parse_plus_address(a.address); pa && is_our_address(desk, pa->base))
                return;
            if (tickets.add_participant(ticket.id, a.address, a.name, role, now) && !is_new)
                event(ticket.id, message_row, "participant.added",
                      a.address + " (" + role + ")");
        };
        if (from) join(*from, is_new ? "requester" : "cc");
        for (const auto& a : msg.to) join(a, "cc");
        for (const auto& a : msg.cc) join(a, "cc");
        tickets.touch(ticket.id, now);
    }

    out.ticket_id = ticket.id;
    out.ticket_number = ticket.number;
    inbox.finish(inbox_id, to_string(out.outcome), ticket.id);

    if (!hooks_.empty() && !rating) {
        const store::Ticket current = *tickets.get(ticket.id);
        const Ingested ing{msg, decision, out, current, cfg, &ruled};
        for (const auto& hook : hooks_) hook(db_, ing);
    }
    tx.commit();
    return out;
}

ProcessOutcome ingest_raw(store::Database& db, std::shared_ptr<const config::Config> config,
                          const std::string& source, std::string_view raw, bool trusted_agents) {
    // One transaction for the raw bytes and their processing: one fsync instead of two. Safe
    // for this path only because the sender (an MTA, a script) keeps the mail until we report
    // success: a temporary error rolls everything back and the caller retries (exit 75); a
    // message that cannot be processed commits raw and quarantined.
    store::Transaction tx(db);
    const std::int64_t id = store::Inbox(db).add_raw(source, raw);
    Pipeline pipeline(db, std::move(config));
    pipeline.set_trusted_ingest(trusted_agents);
    auto out = pipeline.process(id);
    tx.commit();
    // The same bytes a second time: the first run's ticket, reported as a duplicate.
    if (out.already_processed && out.outcome != Outcome::quarantined)
        out.outcome = Outcome::duplicate;
    return out;
}

}  // namespace ticketd::tickets
