#include "tickets/acknowledge.h"

#include "metrics/metrics.h"
#include "parsers/auth_results.h"
#include "parsers/classify.h"
#include "parsers/headers.h"
#include "store/database.h"
#include "store/outbox.h"
#include "store/tickets.h"
#include "tickets/ids.h"
#include "tickets/mailer.h"
#include "rules/rules.h"
#include "tickets/threading.h"
#include "tickets/token_guessing.h"

namespace ticketd::tickets {

namespace {

bool ours(const config::DeskConfig& desk, const std::string& address) {
    if (is_our_address(desk, address)) return true;
    auto pa = parse_plus_address(address);
    return pa && is_our_address(desk, pa->base);
}

// The metrics label of a refusal (ticketd_auto_replies_suppressed_total{reason}): a short, fixed
// vocabulary, where the event on the ticket carries the full sentence.
const char* refusal_label(const std::string& why) {
    auto starts = [&](const char* p) { return why.rfind(p, 0) == 0; };
    auto has = [&](const char* p) { return why.find(p) != std::string::npos; };
    if (starts("automatic mail")) return "automatic_mail";
    if (starts("the sender asked")) return "suppress_header";
    if (starts("null Return-Path")) return "null_return_path";
    if (starts("no sender")) return "no_sender";
    if (starts("the sender's domain did not authenticate")) return "unauthenticated";
    if (has("our own addresses") || has("our sending address")) return "own_address";
    if (has("is an agent")) return "agent";
    if (has("machine address")) return "machine_address";
    if (has("in the last hour")) return "rate_limit";
    return "other";
}

}  // namespace

std::optional<std::string> acknowledgement_refusal(const Ingested& ing, int automatic_last_hour) {
    return automatic_mail_refusal(ing.message, ing.config, automatic_last_hour);
}

std::optional<std::string> automatic_mail_refusal(const parsers::Message& m, const config::Config& cfg,
                                                  int automatic_last_hour) {
    if (m.classification != parsers::Classification::requester)
        return std::string("automatic mail (") + parsers::to_string(m.classification) + ": " +
               m.classification_reason + ")";
    if (parsers::auto_reply_suppressed(m)) return std::string("the sender asked for none (X-Auto-Response-Suppress)");
    // RFC 3834 2: a null envelope sender is a delivery report or another automatic message.
    if (m.has_return_path && m.return_path.empty()) return std::string("null Return-Path (<>)");
    const auto* from = m.author();
    if (!from || from->address.empty()) return std::string("no sender address");
    const std::string addr = parsers::ascii_lower(from->address);
    // A trusted server saw the From domain fail DMARC (or SPF, unsigned): the real person never
    // wrote this, and answering would mail them spam we were sent (backscatter).
    if (auto forged = parsers::sender_domain_forged(m.headers, addr, cfg.trusted_authserv_ids))
        return "the sender's domain did not authenticate (" + *forged + "); an answer would be backscatter";
    if (ours(cfg.desk, addr)) return "the sender " + addr + " is one of our own addresses";
    if (cfg.smtp && (addr == cfg.smtp->from || addr == cfg.smtp->reply_to))
        return "the sender " + addr + " is our sending address";
    // Agents get notifications, not acknowledgements of their own mail (issue 5).
    for (const auto& agent : cfg.agents)
        if (agent.address == addr) return "the sender " + addr + " is an agent";
    const auto local = addr.substr(0, addr.find('@'));
    for (const char* machine : {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"})
        if (local == machine) return "the sender " + addr + " is a machine address";
    if (cfg.auto_reply.max_per_sender_per_hour <= automatic_last_hour)
        return addr + " already got " + std::to_string(automatic_last_hour) +
               " automatic mail(s) in the last hour (auto_reply.max_per_sender_per_hour: " +
               std::to_string(cfg.auto_reply.max_per_sender_per_hour) + ")";
    return std::nullopt;
}

config::TemplateContext mail_context(const config::Config& cfg, const store::Ticket& t,
                                     const parsers::Message* message, bool is_new) {
    config::TemplateContext c;
    c["desk.name"] = cfg.desk.name;
    c["desk.address"] = cfg.smtp ? cfg.smtp->reply_to : (cfg.desk.addresses.empty() ? "" : cfg.desk.addresses[0]);
    c["ticket.number"] = std::to_string(t.number);
    c["ticket.tag"] = format_subject_tag(cfg.desk.subject_tag, t.number, t.token);
    c["ticket.subject"] = t.subject;
    c["ticket.status"] = store::to_string(t.status);
    c["ticket.priority"] = store::to_string(t.priority);
    c["ticket.queue"] = t.queue;
    c["ticket.assignee"] = t.assignee;
    if (is_new) c["ticket.is_new"] = "yes";
    c["requester.name"] = t.requester_name;
    c["requester.address"] = t.requester_address;
    c["requester.display_name"] = t.requester_name.empty() ? t.requester_address : t.requester_name;
    if (message) {
        const auto* from = message->author();
        c["message.subject"] = message->subject;
        c["message.text"] = message->new_text.empty() ? message->body : message->new_text;
        c["message.from"] = from ? from->address : "";
        c["message.from_display"] =
            from ? (from->name.empty() ? from->address : from->name + " <" + from->address + ">") : "";
    }
    return c;
}

mail::OutgoingMail acknowledgement_mail(const Ingested& ing, const config::MailTemplate& tmpl,
                                        std::int64_t seq, std::int64_t now) {
    const auto& cfg = ing.config;
    const auto& t = ing.ticket;
    auto rendered = config::render(tmpl, mail_context(cfg, t, &ing.message, true));
    const std::string tag = format_subject_tag(cfg.desk.subject_tag, t.number, t.token);
    // Whatever the template says, the tag (with its token) is what threads the answer.
    if (rendered.subject.find(tag) == std::string::npos) rendered.subject = tag + " " + rendered.subject;

    mail::OutgoingMail m;
    m.from = {cfg.desk.name, cfg.smtp->from};
    m.reply_to = mail::Mailbox{cfg.desk.name, cfg.smtp->reply_to};
    m.to = {{t.requester_name, t.requester_address}};
    m.subject = rendered.subject;
    m.text = rendered.text;
    m.html = rendered.html;
    m.date = std::chrono::sys_seconds{std::chrono::seconds{now}};
    m.message_id = make_message_id(t.number, t.token, seq, our_host(cfg.desk));
    if (!ing.message.message_id.empty()) {
        m.in_reply_to = {ing.message.message_id};
        m.references = ing.message.references;
        m.references.push_back(ing.message.message_id);
    }
    m.auto_submitted = mail::AutoSubmitted::auto_replied;
    return m;
}

void acknowledge_new_ticket(store::Database& db, const Ingested& ing) {
    const auto& cfg = ing.config;
    if (!cfg.smtp || !cfg.auto_reply.enabled) return;  // nothing is sent without smtp:
    if (ing.outcome.outcome != Outcome::created && ing.outcome.outcome != Outcome::linked) return;
    store::Outbox outbox(db);
    const std::int64_t now = db.now();
    Mailer trail(db, cfg, ing.ticket, ing.outcome.message, ing.outcome.inbox_id, now);
    auto event = [&](const std::string& kind, const std::string& detail) { trail.event(kind, detail); };

    // The admins' rules may say no, or choose the template; they never override the loop
    // checks below (a rule cannot make us answer a machine).
    std::string template_name = cfg.auto_reply.template_name;
    if (ing.rules && ing.rules->auto_reply) {
        std::string by;
        for (const auto& f : ing.rules->fired) by += (by.empty() ? "" : ", ") + f.rule;
        if (!ing.rules->auto_reply->enabled) {
            event("auto_reply.suppressed", "no acknowledgement: a rule says auto_reply: false (rules fired: " + by + ")");
            metrics::auto_reply_suppressed("rule");
            return;
        }
        if (!ing.rules->auto_reply->template_name.empty()) template_name = ing.rules->auto_reply->template_name;
    }
    auto tmpl = cfg.templates.find(template_name);
    if (tmpl == cfg.templates.end()) {
        // Config load checks the default; a rule naming a template that is gone falls back to
        // it rather than leaving the requester without an answer.
        event("auto_reply.template_missing", "no template '" + template_name + "'; using '" +
                                                 cfg.auto_reply.template_name + "'");
        tmpl = cfg.templates.find(cfg.auto_reply.template_name);
        if (tmpl == cfg.templates.end()) return;
    }

    const std::string to = parsers::ascii_lower(ing.ticket.requester_address);
    const int recent = to.empty() ? 0 : outbox.automatic_to_since(to, now - 3600);
    if (auto why = acknowledgement_refusal(ing, recent)) {
        event("auto_reply.suppressed", "no acknowledgement: " + *why);
        // Counted as decided: a transaction rolled back and retried (a busy database) counts
        // its message again, which the counter's rate hardly shows.
        metrics::auto_reply_suppressed(refusal_label(*why));
        return;
    }
    // A sender guessing ticket tokens (issue 8) is not answered while it lasts.
    if (auto why = token_guessing_refusal(db, cfg, to, now)) {
        event("auto_reply.suppressed", "no acknowledgement: " + *why);
        metrics::auto_reply_suppressed("token_guessing");
        return;
    }

    const std::int64_t seq = next_outgoing_seq(db, ing.ticket);  // shared with every ticket mail
    const mail::OutgoingMail mail = acknowledgement_mail(ing, tmpl->second, seq, now);
    const std::string raw = mail::compose(mail);

    // The copy on the ticket, and its Message-ID, so a reply to it threads here first.
    store::Messages messages(db);
    store::MessageRecord rec;
    rec.ticket = ing.ticket.id;
    rec.direction = store::Direction::out;
    rec.kind = store::MessageKind::system;
    rec.message_id = mail.message_id;
    rec.from_address = mail.from.address;
    rec.from_name = mail.from.name;
    rec.to = {{mail.to[0].name, mail.to[0].address}};
    rec.subject = mail.subject;
    rec.date = now;
    rec.body = mail.text;
    rec.new_text = mail.text;
    rec.headers = {{"Auto-Submitted", "auto-replied"}};
    rec.thread_signal = "outgoing";
    rec.created_at = now;
    const std::int64_t message_row = messages.add(rec);
    messages.add_message_id(mail.message_id, ing.ticket.id, message_row, store::Direction::out);

    store::OutboxMail row;
    row.ticket = ing.ticket.id;
    row.message = message_row;
    row.kind = "acknowledgement";
    row.mail_from = cfg.smtp->from;
    row.recipients = {mail.to[0].address};
    row.auto_to = to;
    row.message_id = mail.message_id;
    row.raw = raw;
    const std::int64_t id = outbox.enqueue(row);
    event("outbox.queued", "acknowledgement <" + mail.message_id + "> to " + mail.to[0].address +
                               " queued (outbox " + std::to_string(id) + ", template " + tmpl->first + ")");
}

}  // namespace ticketd::tickets
