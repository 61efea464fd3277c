#include "tickets/mailer.h"

#include <algorithm>
#include <chrono>

#include "store/database.h"
#include "store/outbox.h"
#include "tickets/ids.h"
#include "tickets/threading.h"

namespace ticketd::tickets {

std::int64_t next_outgoing_seq(store::Database& db, const store::Ticket& t) {
    std::int64_t seq = 0;
    const auto rows = store::Outbox(db).for_ticket(t.id);
    for (const auto& r : rows)
        if (auto id = parse_message_id(r.message_id)) seq = std::max(seq, id->seq);
    return std::max<std::int64_t>(seq, static_cast<std::int64_t>(rows.size())) + 1;
}

Mailer::Mailer(store::Database& db, const config::Config& cfg, const store::Ticket& t,
               std::optional<std::int64_t> message_row, std::int64_t inbox_id, std::int64_t now)
    : db_(db), cfg_(cfg), t_(t), message_row_(message_row), inbox_id_(inbox_id), now_(now) {}

void Mailer::event(const std::string& kind, const std::string& detail) {
    store::Event ev;
    ev.ticket = t_.id;
    ev.message = message_row_;
    ev.inbox_id = inbox_id_ ? std::optional<std::int64_t>(inbox_id_) : std::nullopt;
    ev.at = now_;
    ev.kind = kind;
    ev.detail = detail;
    store::Events(db_).add(ev);
}

std::string Mailer::next_message_id() {
    return make_message_id(t_.number, t_.token, next_outgoing_seq(db_, t_), our_host(cfg_.desk));
}

std::string Mailer::subject(std::string s) const {
    const std::string tag = format_subject_tag(cfg_.desk.subject_tag, t_.number, t_.token);
    if (s.find(tag) == std::string::npos) s = tag + " " + s;
    return s;
}

bool Mailer::over_limit(const std::string& address) {
    return store::Outbox(db_).automatic_to_since(address, now_ - 3600) >= cfg_.auto_reply.max_per_sender_per_hour;
}

std::int64_t Mailer::queue(const std::string& kind, mail::OutgoingMail m, const std::string& auto_to) {
    m.date = std::chrono::sys_seconds{std::chrono::seconds{now_}};
    if (m.message_id.empty()) m.message_id = next_message_id();
    store::OutboxMail row;
    row.ticket = t_.id;
    row.message = message_row_;
    row.kind = kind;
    row.mail_from = cfg_.smtp->from;
    std::string who;
    for (const auto* list : {&m.to, &m.cc})
        for (const auto& b : *list) {
            row.recipients.push_back(b.address);
            who += (who.empty() ? "" : ", ") + b.address;
        }
    row.auto_to = auto_to;
    row.message_id = m.message_id;
    row.raw = mail::compose(m);
    const std::int64_t id = store::Outbox(db_).enqueue(row);
    store::Messages(db_).add_message_id(m.message_id, t_.id, message_row_, store::Direction::out);
    event("outbox.queued", kind + " <" + m.message_id + "> to " + who + " queued (outbox " + std::to_string(id) + ")");
    return id;
}

mail::OutgoingMail Mailer::from_desk() const {
    mail::OutgoingMail m;
    m.from = {cfg_.desk.name, cfg_.smtp->from};
    m.reply_to = mail::Mailbox{cfg_.desk.name, cfg_.smtp->reply_to};
    return m;
}

mail::OutgoingMail Mailer::from_desk(const config::RenderedMail& r, mail::Mailbox to, const parsers::Message* about,
                                     mail::AutoSubmitted auto_submitted) const {
    mail::OutgoingMail m = from_desk();
    m.to = {std::move(to)};
    m.subject = subject(r.subject);
    m.text = r.text;
    m.html = r.html;
    if (about && !about->message_id.empty()) {
        m.in_reply_to = {about->message_id};
        m.references = about->references;
        m.references.push_back(about->message_id);
    }
    m.auto_submitted = auto_submitted;
    return m;
}

}  // namespace ticketd::tickets
