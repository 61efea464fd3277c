#include "tickets/delivery_failures.h"

#include <algorithm>

#include "config/templates.h"
#include "parsers/headers.h"
#include "store/database.h"
#include "store/tickets.h"
#include "tickets/acknowledge.h"
#include "tickets/agent_commands.h"
#include "tickets/agents.h"
#include "tickets/mailer.h"

namespace ticketd::tickets {

namespace {

// DSNs write recipients as "rfc822; a@b", "<a@b>" or bare; compare the address alone.
std::string bare_address(std::string r) {
    if (auto semi = r.find(';'); semi != std::string::npos) r.erase(0, semi + 1);
    r.erase(std::remove_if(r.begin(), r.end(),
                           [](char c) { return c == '<' || c == '>' || c == ' ' || c == '\t'; }),
            r.end());
    return parsers::ascii_lower(r);
}

bool has_recipient(const store::SentMail& m, const std::string& address) {
    return std::any_of(m.recipients.begin(), m.recipients.end(),
                       [&](const std::string& r) { return bare_address(r) == address; });
}

// The agents hear when the requester (or a cc participant) did not get our mail: an
// acknowledgement or an agent's relayed answer. Mail to agents and leads (notifications, SLA
// reminders, digests) is not reported back to agents: its bounce is on the trail, and telling
// agents about mail to agents is how a broken agent address would feed a loop.
void tell_agents(store::Database& db, const Ingested& ing, const BounceMatch& match, const parsers::BounceInfo& b,
                 std::int64_t now) {
    const auto& cfg = ing.config;
    if (!cfg.smtp || cfg.agents.empty()) return;
    if (match.mail.kind != "acknowledgement" && match.mail.kind != "relay") return;
    const store::Ticket& t = ing.ticket;
    Mailer mailer(db, cfg, t, ing.outcome.message, ing.outcome.inbox_id, now);
    auto tmpl = cfg.templates.find("delivery_failure");
    if (tmpl == cfg.templates.end()) {
        mailer.event("delivery.not_notified", "no delivery_failure template");
        return;
    }
    std::string failed;
    for (const auto& r : match.recipients) failed += (failed.empty() ? "" : ", ") + (r.empty() ? "its recipients" : r);
    auto context = mail_context(cfg, t, nullptr, false);
    context["delivery.kind"] = match.mail.kind == "relay" ? "relayed answer" : match.mail.kind;
    context["delivery.recipient"] = failed;
    context["delivery.status"] = b.status;
    context["delivery.diagnostic"] = b.diagnostic;
    context["delivery.message_id"] = match.mail.message_id;
    const auto r = config::render(tmpl->second, context);
    for (const auto& to : agents_to_notify(cfg, t)) {
        const auto* agent = find_agent(cfg, to);
        auto m = mailer.from_desk(r, {agent ? agent->name : "", to}, nullptr, mail::AutoSubmitted::auto_generated);
        m.in_reply_to = {match.mail.message_id};  // the mail that bounced: the answer threads here
        m.references = {match.mail.message_id};
        mailer.queue("delivery_failure", std::move(m), "");
    }
}

}  // namespace

std::optional<BounceMatch> match_bounce(const parsers::BounceInfo& bounce,
                                        const std::optional<store::SentMail>& by_message_id,
                                        const std::vector<store::SentMail>& sent_on_ticket) {
    std::vector<std::string> failed;
    for (const auto& r : bounce.failed_recipients) {
        auto a = bare_address(r);
        if (!a.empty() && std::find(failed.begin(), failed.end(), a) == failed.end())
            failed.push_back(std::move(a));
    }

    if (by_message_id) {
        BounceMatch m{*by_message_id, {}, "Message-ID"};
        // The recipients the DSN names that this mail went to; a DSN that names none (or only
        // addresses after forwarding) reports on the mail's recipients.
        for (const auto& a : failed)
            if (has_recipient(*by_message_id, a)) m.recipients.push_back(a);
        if (m.recipients.empty()) {
            for (const auto& a : failed) m.recipients.push_back(a);
            if (m.recipients.empty())
                for (const auto& r : by_message_id->recipients) m.recipients.push_back(bare_address(r));
        }
        if (m.recipients.empty()) m.recipients.push_back("");
        return m;
    }
    for (const auto& sent : sent_on_ticket) {  // newest first
        BounceMatch m{sent, {}, "failed recipient"};
        for (const auto& a : failed)
            if (has_recipient(sent, a)) m.recipients.push_back(a);
        if (!m.recipients.empty()) return m;
    }
    return std::nullopt;
}

void record_delivery_failure(store::Database& db, const Ingested& ing) {
    const auto& msg = ing.message;
    if (msg.classification != parsers::Classification::bounce || !msg.bounce) return;
    if (!ing.outcome.ticket_id) return;
    const parsers::BounceInfo& b = *msg.bounce;

    store::Bounces bounces(db);
    const auto match = match_bounce(b, bounces.outbox_by_message_id(b.original_message_id),
                                    bounces.sent_for_ticket(*ing.outcome.ticket_id));
    const std::int64_t now = db.now();
    Mailer trail(db, ing.config, ing.ticket, ing.outcome.message, ing.outcome.inbox_id, now);
    auto event = [&](const char* kind, const std::string& detail) { trail.event(kind, detail); };
    if (!match) {
        std::string d = "a bounce (status " + (b.status.empty() ? std::string("unknown") : b.status) +
                        ") that names none of our sent mail";
        if (!b.original_message_id.empty()) d += " (original Message-ID <" + b.original_message_id + ">)";
        event("delivery.unmatched", d);
        return;
    }
    for (const auto& r : match->recipients) {
        store::DeliveryFailure f;
        f.outbox = match->mail.id;
        f.ticket = ing.outcome.ticket_id;
        f.message = ing.outcome.message;
        f.recipient = r;
        f.status = b.status;
        f.diagnostic = b.diagnostic;
        f.permanent = b.permanent;
        f.at = now;
        bounces.add(f);
        std::string d = match->mail.kind + " <" + match->mail.message_id + "> (outbox " +
                        std::to_string(match->mail.id) + ") to " + (r.empty() ? "its recipients" : r) +
                        (b.permanent ? " was not delivered" : " is delayed") +
                        (b.status.empty() ? "" : ": " + b.status) +
                        (b.diagnostic.empty() ? "" : " " + b.diagnostic) + " (matched by " + match->how + ")";
        event(b.permanent ? "delivery.failed" : "delivery.delayed", d);
    }
    if (b.permanent) tell_agents(db, ing, *match, b, now);
}

}  // namespace ticketd::tickets
