#include "tickets/agents.h"

#include <algorithm>
#include <map>

#include "config/templates.h"
#include "parsers/auth_results.h"
#include "parsers/headers.h"
#include "store/database.h"
#include "store/outbox.h"
#include "tickets/acknowledge.h"
#include "tickets/ids.h"
#include "tickets/mailer.h"

namespace ticketd::tickets {

namespace {

std::string domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : parsers::ascii_lower(address.substr(at + 1));
}

bool ours(const config::Config& cfg, const std::string& address) {
    if (is_our_address(cfg.desk, address)) return true;
    if (auto pa = parse_plus_address(address); pa && is_our_address(cfg.desk, pa->base)) return true;
    return cfg.smtp && (address == cfg.smtp->from || address == cfg.smtp->reply_to);
}

void add_unique(std::vector<std::string>& v, std::string a) {
    a = parsers::ascii_lower(a);
    if (!a.empty() && std::find(v.begin(), v.end(), a) == v.end()) v.push_back(std::move(a));
}

const config::MailTemplate* find_template(const config::Config& cfg, const std::string& name) {
    auto it = cfg.templates.find(name);
    return it == cfg.templates.end() ? nullptr : &it->second;
}

/// The conversation as the requester sees it (their mail, our acknowledgements and relays),
/// oldest first: what a relayed reply's References lists. In-Reply-To is the requester's newest.
struct Conversation {
    std::vector<std::string> references;
    std::string in_reply_to;
};
Conversation conversation(store::Database& db, std::int64_t ticket_id) {
    std::vector<std::pair<std::int64_t, std::string>> ids;
    Conversation c;
    for (const auto& m : store::Messages(db).for_ticket(ticket_id))
        if (m.direction == store::Direction::in && m.kind == store::MessageKind::requester && !m.message_id.empty()) {
            ids.emplace_back(m.id, m.message_id);
            c.in_reply_to = m.message_id;
        }
    for (const auto& r : store::Outbox(db).for_ticket(ticket_id))
        if ((r.kind == "acknowledgement" || r.kind == "relay") && r.message)
            ids.emplace_back(*r.message, r.message_id);
    std::stable_sort(ids.begin(), ids.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // The first and the newest: enough for every client to thread, short enough for any server.
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (i == 0 || i + 10 >= ids.size()) c.references.push_back(ids[i].second);
    if (c.in_reply_to.empty() && !ids.empty()) c.in_reply_to = ids.back().second;
    return c;
}

}  // namespace

bool trusted_source(std::string_view source, const config::Config& cfg, bool trusted_ingest) {
    if (source.rfind("imap:", 0) == 0) {
        const std::string_view rest = source.substr(5);
        const std::string_view account = rest.substr(0, rest.find('/'));
        for (const auto& a : cfg.imap)
            if (a.name == account) return a.trusted_agents;
        return false;
    }
    return trusted_ingest;
}

AgentSender agent_sender(const parsers::Message& msg, const config::Config& cfg, bool trusted) {
    AgentSender s;
    if (msg.classification == parsers::Classification::auto_reply ||
        msg.classification == parsers::Classification::bounce)
        return s;
    const parsers::Address* from = msg.author();
    if (!from) return s;
    s.agent = find_agent(cfg, from->address);
    if (!s.agent) return s;
    if (trusted) {
        s.verified = true;
        s.evidence = "arrived through a mailbox trusted for agents";
        return s;
    }
    auto v = parsers::verify_sender_domain(msg.headers, domain_of(s.agent->address), cfg.trusted_authserv_ids);
    s.verified = v.verified;
    s.evidence = v.evidence;
    return s;
}

bool strong_signal(Signal s) {
    switch (s) {
        case Signal::message_id:
        case Signal::in_reply_to:
        case Signal::references:
        case Signal::our_message_id:
        case Signal::subject_tag:
        case Signal::plus_address: return true;
        default: return false;
    }
}

AgentWork prepare_agent_work(const parsers::Message& msg, const config::Config& cfg, const config::Agent& agent) {
    AgentWork w;
    w.agent = &agent;
    // What the agent wrote now: the notification they answer is quoted below it.
    w.commands = parse_agent_commands(msg.new_text.empty() ? msg.body : msg.new_text);
    if (w.commands.errors.empty()) resolve_agent_commands(w.commands, cfg, agent);
    return w;
}

void apply_agent_mail(store::Database& db, const AgentWork& work, const parsers::Message& msg,
                      const config::Config& cfg, std::int64_t ticket_id, std::int64_t message_row,
                      std::int64_t inbox_id, std::int64_t now) {
    store::Tickets tickets(db);
    store::Ticket t = *tickets.get(ticket_id);
    Mailer mailer(db, cfg, t, message_row, inbox_id, now);
    const auto& agent = *work.agent;
    const auto& c = work.commands;

    if (!c.errors.empty()) {
        std::string list;
        for (const auto& e : c.errors) list += "  - " + e + "\n";
        std::string detail;
        for (const auto& e : c.errors) detail += (detail.empty() ? "" : "; ") + e;
        mailer.event("agent.command_error", agent.address + ": nothing applied, nothing relayed: " + detail);
        const auto* tmpl = find_template(cfg, "agent_command_error");
        if (!cfg.smtp || !tmpl) return;
        if (mailer.over_limit(agent.address)) {
            mailer.event("agent.error_suppressed", "no error mail: " + agent.address + " reached auto_reply.max_per_sender_per_hour");
            return;
        }
        auto ctx = mail_context(cfg, t, &msg, false);
        ctx["errors"] = list;
        ctx["agent.name"] = agent.name;
        const auto r = config::render(*tmpl, ctx);
        mailer.queue("agent_error",
                     mailer.from_desk(r, {agent.name, agent.address}, &msg, mail::AutoSubmitted::auto_replied),
                     agent.address);
        return;
    }

    // The commands, each on the trail.
    auto command = [&](const std::string& what) { mailer.event("agent.command", agent.address + ": " + what); };
    if (c.status) {
        const auto s = *store::parse_status(*c.status);
        if (s != t.status) {
            tickets.set_status(t.id, s, now);
            command(std::string("status ") + store::to_string(t.status) + " -> " + *c.status);
        }
    }
    if (c.priority) {
        const auto p = *store::parse_priority(*c.priority);
        if (p != t.priority) {
            tickets.set_priority(t.id, p, now);
            command(std::string("priority ") + store::to_string(t.priority) + " -> " + *c.priority);
        }
    }
    for (const auto& tag : c.add_tags)
        if (std::find(t.tags.begin(), t.tags.end(), tag) == t.tags.end()) {
            tickets.add_tag(t.id, tag);
            command("tag +" + tag);
        }
    for (const auto& tag : c.remove_tags)
        if (std::find(t.tags.begin(), t.tags.end(), tag) != t.tags.end()) {
            tickets.remove_tag(t.id, tag);
            command("tag -" + tag);
        }
    if (c.assign && *c.assign != t.assignee) {
        tickets.set_assignee(t.id, *c.assign, now);
        command("assignee '" + t.assignee + "' -> '" + *c.assign + "'");
    }
    if (c.queue && *c.queue != t.queue) {
        tickets.set_queue(t.id, *c.queue, now);
        command("queue '" + t.queue + "' -> '" + *c.queue + "'");
    }
    tickets.touch(t.id, now);

    if (c.note) {
        mailer.event("agent.note", "internal note by " + agent.address + " (not relayed)");
        return;
    }

    // First response: the first agent answer on the ticket (this one is stored already).
    int answers = 0;
    for (const auto& m : store::Messages(db).for_ticket(t.id))
        if (m.kind == store::MessageKind::agent) ++answers;
    if (answers == 1)
        mailer.event("ticket.first_response", std::to_string(now - t.created_at) + "s after the ticket opened, by " +
                                                  agent.address);

    const std::string text = c.text;
    std::string trimmed = text;
    trimmed.erase(0, trimmed.find_first_not_of(" \t\r\n") == std::string::npos ? trimmed.size()
                                                                              : trimmed.find_first_not_of(" \t\r\n"));
    if (trimmed.empty() && msg.attachments.empty()) {
        mailer.event("agent.not_relayed", "nothing to relay: only commands");
        return;
    }
    const auto* tmpl = find_template(cfg, "relayed_reply");
    if (!cfg.smtp || !tmpl) {
        mailer.event("agent.not_relayed", cfg.smtp ? "no relayed_reply template" : "no smtp: configured");
        return;
    }

    // To the requester, Cc everyone else on the ticket; never to agents or ourselves.
    t = *tickets.get(t.id);
    std::vector<mail::Mailbox> to, cc;
    std::vector<std::string> seen;
    auto wanted = [&](const std::string& address) {
        const std::string a = parsers::ascii_lower(address);
        if (a.empty() || ours(cfg, a) || find_agent(cfg, a) || std::find(seen.begin(), seen.end(), a) != seen.end())
            return false;
        seen.push_back(a);
        return true;
    };
    if (wanted(t.requester_address)) to.push_back({t.requester_name, t.requester_address});
    for (const auto& p : tickets.participants(t.id))
        if ((p.role == "requester" || p.role == "cc") && wanted(p.address)) {
            if (to.empty()) to.push_back({p.name, p.address});
            else cc.push_back({p.name, p.address});
        }
    if (to.empty()) {
        mailer.event("agent.not_relayed", "the ticket has no requester or participant to relay to");
        return;
    }

    auto ctx = mail_context(cfg, t, &msg, false);
    ctx["message.text"] = c.text;
    ctx["agent.name"] = agent.name;
    auto r = config::render(*tmpl, ctx);
    auto m = mailer.from_desk();
    m.from.name = agent.name.empty() ? cfg.desk.name : agent.name;
    m.to = std::move(to);
    m.cc = std::move(cc);
    m.subject = mailer.subject(r.subject);
    m.text = r.text;
    m.html = r.html;
    const Conversation conv = conversation(db, t.id);
    if (!conv.in_reply_to.empty()) m.in_reply_to = {conv.in_reply_to};
    m.references = conv.references;
    for (const auto& a : msg.attachments)
        if (a.leaf_index < msg.leaves.size())
            m.attachments.push_back({a.filename, a.content_type, msg.leaves[a.leaf_index].data});
    m.auto_submitted = mail::AutoSubmitted::none;  // a person's answer: auto-responders may answer it
    mailer.queue("relay", std::move(m), "");
}

std::vector<std::string> agents_to_notify(const config::Config& cfg, const store::Ticket& t) {
    std::vector<std::string> out;
    if (!t.assignee.empty())
        if (const auto* a = find_agent(cfg, t.assignee)) {
            add_unique(out, a->address);
            return out;
        }
    if (!t.queue.empty())
        for (const auto& a : cfg.agents)
            if (std::find(a.queues.begin(), a.queues.end(), t.queue) != a.queues.end()) add_unique(out, a.address);
    if (!out.empty()) return out;
    for (const auto& a : cfg.agents) add_unique(out, a.address);
    return out;
}

std::vector<std::string> resolve_notify(const config::Config& cfg, const std::vector<std::string>& notify) {
    std::vector<std::string> out;
    for (const auto& n : notify) {
        const std::string l = parsers::ascii_lower(n);
        bool done = false;
        for (const auto& a : cfg.agents)
            if (a.address == l || parsers::ascii_lower(a.name) == l) add_unique(out, a.address), done = true;
        if (done) continue;
        for (const auto& a : cfg.agents)
            if (std::find(a.queues.begin(), a.queues.end(), n) != a.queues.end()) add_unique(out, a.address), done = true;
        if (!done && l.find('@') != std::string::npos) add_unique(out, l);
    }
    return out;
}

void warn_unverified_agent_mail(store::Database& db, const AgentSender& sender, const parsers::Message& msg,
                                const config::Config& cfg, std::int64_t ticket_id, std::int64_t message_row,
                                std::int64_t inbox_id, std::int64_t now) {
    const store::Ticket t = *store::Tickets(db).get(ticket_id);
    Mailer mailer(db, cfg, t, message_row, inbox_id, now);
    mailer.event("agent.unverified", "from agent address " + sender.agent->address +
                                         " but not verified, nothing executed or relayed: " + sender.evidence);
    const auto* tmpl = find_template(cfg, "agent_unverified");
    if (!cfg.smtp || !tmpl) return;
    auto recipients = agents_to_notify(cfg, t);
    add_unique(recipients, sender.agent->address);
    auto ctx = mail_context(cfg, t, &msg, false);
    ctx["agent.unverified_reason"] = sender.evidence;
    ctx["agent.name"] = sender.agent->name;
    const auto r = config::render(*tmpl, ctx);
    for (const auto& to : recipients) {
        if (mailer.over_limit(to)) {
            mailer.event("agent.warning_suppressed", "no warning to " + to + ": auto_reply.max_per_sender_per_hour reached");
            continue;
        }
        const auto* a = find_agent(cfg, to);
        auto m = mailer.from_desk();
        m.to = {{a ? a->name : "", to}};
        m.subject = mailer.subject(r.subject);
        m.text = r.text;
        m.html = r.html;
        m.auto_submitted = mail::AutoSubmitted::auto_generated;
        mailer.queue("agent_warning", std::move(m), to);
    }
}

void notify_agents(store::Database& db, const Ingested& ing) {
    const auto& cfg = ing.config;
    const auto& msg = ing.message;
    if (!cfg.smtp) return;
    // Never for automatic mail: a notification answering a bounce or a vacation reply is how
    // loops start.
    if (msg.classification == parsers::Classification::auto_reply ||
        msg.classification == parsers::Classification::bounce)
        return;
    const auto o = ing.outcome.outcome;
    if (o != Outcome::created && o != Outcome::linked && o != Outcome::appended && o != Outcome::reopened) return;
    if (const auto* from = msg.author(); from && find_agent(cfg, from->address)) return;  // agents' own mail
    std::vector<std::string> recipients;
    if (!cfg.agents.empty()) recipients = agents_to_notify(cfg, ing.ticket);
    if (ing.rules)
        for (auto& a : resolve_notify(cfg, ing.rules->notify)) add_unique(recipients, a);
    if (recipients.empty()) return;
    const auto* tmpl = find_template(cfg, "agent_notification");
    Mailer mailer(db, cfg, ing.ticket, ing.outcome.message, ing.outcome.inbox_id, db.now());
    if (!tmpl) {
        mailer.event("agent.not_notified", "no agent_notification template");
        return;
    }
    const bool is_new = o == Outcome::created || o == Outcome::linked;
    const auto r = config::render(*tmpl, mail_context(cfg, ing.ticket, &msg, is_new));
    for (const auto& to : recipients) {
        const auto* a = find_agent(cfg, to);
        mailer.queue("notification",
                     mailer.from_desk(r, {a ? a->name : "", to}, &msg, mail::AutoSubmitted::auto_generated), "");
    }
}

}  // namespace ticketd::tickets
