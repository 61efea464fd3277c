#include "tickets/threading.h"

#include "parsers/headers.h"
#include "tickets/ids.h"

namespace ticketd::tickets {

namespace {

bool iequals(std::string_view a, std::string_view b) { return parsers::ascii_lower(a) == parsers::ascii_lower(b); }

std::string tag_text(std::int64_t number) { return "#" + std::to_string(number); }

/// "<a@b>" or "Name <a@b>" or "a@b" -> "a@b": Delivered-To and X-Original-To are raw headers.
std::string bare_address(std::string_view v) {
    auto lt = v.find('<');
    if (lt != std::string_view::npos) {
        auto gt = v.find('>', lt);
        if (gt != std::string_view::npos) return std::string(v.substr(lt + 1, gt - lt - 1));
    }
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    return std::string(v);
}

struct Candidate {
    std::string address;
    std::string where;
};

std::vector<Candidate> recipient_addresses(const parsers::Message& m) {
    std::vector<Candidate> out;
    for (const auto& a : m.to) out.push_back({a.address, "To"});
    for (const auto& a : m.cc) out.push_back({a.address, "Cc"});
    for (const auto& h : m.headers) {
        if (iequals(h.name, "Delivered-To") || iequals(h.name, "X-Original-To") ||
            iequals(h.name, "Envelope-To"))
            out.push_back({bare_address(h.value), h.name});
    }
    return out;
}

/// Referenced ids, In-Reply-To first, then References newest first.
std::vector<std::pair<std::string, Signal>> referenced_ids(const parsers::Message& m) {
    std::vector<std::pair<std::string, Signal>> out;
    for (const auto& id : m.in_reply_to) out.emplace_back(id, Signal::in_reply_to);
    for (auto it = m.references.rbegin(); it != m.references.rend(); ++it)
        out.emplace_back(*it, Signal::references);
    return out;
}

ThreadDecision matched(const TicketRef& t, Signal s, std::string evidence,
                       std::vector<std::string> refused) {
    ThreadDecision d;
    d.ticket = t;
    d.signal = s;
    d.evidence = std::move(evidence);
    d.refused = std::move(refused);
    return d;
}

}  // namespace

const char* to_string(Signal s) {
    switch (s) {
        case Signal::none: return "none";
        case Signal::message_id: return "message_id";
        case Signal::bounce_report: return "bounce_report";
        case Signal::in_reply_to: return "in_reply_to";
        case Signal::references: return "references";
        case Signal::our_message_id: return "our_message_id";
        case Signal::subject_tag: return "subject_tag";
        case Signal::plus_address: return "plus_address";
        case Signal::tag_participant: return "tag_participant";
        case Signal::plus_participant: return "plus_participant";
    }
    return "none";
}

std::string our_host(const config::DeskConfig& desk) {
    if (!desk.hostname.empty()) return parsers::ascii_lower(desk.hostname);
    if (!desk.addresses.empty()) {
        auto at = desk.addresses[0].rfind('@');
        if (at != std::string::npos) return parsers::ascii_lower(desk.addresses[0].substr(at + 1));
    }
    return {};
}

bool is_our_address(const config::DeskConfig& desk, std::string_view address) {
    for (const auto& a : desk.addresses)
        if (iequals(a, address)) return true;
    return false;
}

ThreadDecision thread(const parsers::Message& msg, const config::DeskConfig& desk,
                      const ThreadLookup& lookup) {
    std::vector<std::string> refused;
    int wrong_tokens = 0;
    const std::string sender = msg.from.empty() ? std::string() : msg.from.front().address;
    const std::string host = our_host(desk);

    // 0. The same mail, already stored: it arrived again through another of our addresses,
    //    another mailbox, or a re-fetch. It joins that ticket whatever address it came in on.
    if (!msg.message_id.empty()) {
        if (auto t = lookup.by_message_id(msg.message_id))
            return matched(*t, Signal::message_id,
                           "Message-ID <" + msg.message_id + "> is already on " +
                               tag_text(t->number),
                           refused);
    }
    // A delivery report names the message it is about; that message's ticket is the one.
    if (msg.classification == parsers::Classification::bounce && msg.bounce &&
        !msg.bounce->original_message_id.empty()) {
        const auto& orig = msg.bounce->original_message_id;
        if (auto t = lookup.by_message_id(orig))
            return matched(*t, Signal::bounce_report,
                           "delivery report about <" + orig + "> of " + tag_text(t->number),
                           refused);
        if (auto ours = parse_message_id(orig); ours && ours->host == host) {
            if (auto t = lookup.by_number(ours->number); t && lookup.token_matches(t->id, ours->token))
                return matched(*t, Signal::bounce_report,
                               "delivery report about our <" + orig + "> (token checks out)",
                               refused);
        }
    }

    // 1. In-Reply-To / References naming a message we stored or sent.
    const auto refs = referenced_ids(msg);
    for (const auto& [id, signal] : refs) {
        if (auto t = lookup.by_message_id(id)) {
            const char* header = signal == Signal::in_reply_to ? "In-Reply-To" : "References";
            return matched(*t, signal,
                           std::string(header) + " <" + id + "> is a message on " +
                               tag_text(t->number),
                           refused);
        }
    }

    // Our Message-IDs among the references carry number and token even if the row is gone.
    std::optional<TicketRef> ref_ticket;
    std::string ref_id;
    for (const auto& [id, signal] : refs) {
        auto ours = parse_message_id(id);
        if (!ours || ours->host != host) continue;
        auto t = lookup.by_number(ours->number);
        if (!t) {
            refused.push_back("<" + id + "> names " + tag_text(ours->number) +
                              ", which does not exist");
            continue;
        }
        if (!lookup.token_matches(t->id, ours->token)) {
            ++wrong_tokens;
            refused.push_back("<" + id + "> names " + tag_text(ours->number) +
                              " with a wrong token");
            continue;
        }
        ref_ticket = t;
        ref_id = id;
        break;
    }

    // 2. Subject tag with a valid token.
    const auto tag = parse_subject_tag(msg.subject, desk.subject_tag);
    std::optional<TicketRef> weak_tag_ticket;
    if (tag) {
        const std::string shown = format_subject_tag(desk.subject_tag, tag->number);
        auto t = lookup.by_number(tag->number);
        if (!t) {
            refused.push_back("subject tag " + shown + ": no such ticket");
        } else if (!tag->token.empty() && lookup.token_matches(t->id, tag->token)) {
            return matched(*t, Signal::subject_tag,
                           "subject tag " + shown + " with a valid token", refused);
        } else if (ref_ticket && ref_ticket->id == t->id) {
            return matched(*t, Signal::subject_tag,
                           "subject tag " + shown + ", token from <" + ref_id + ">", refused);
        } else {
            if (!tag->token.empty()) ++wrong_tokens;
            weak_tag_ticket = t;
        }
    }
    if (ref_ticket)
        return matched(*ref_ticket, Signal::our_message_id,
                       "<" + ref_id + "> is ours for " + tag_text(ref_ticket->number) +
                           " (token checks out)",
                       refused);

    // 3. Plus address with a valid token.
    std::optional<TicketRef> weak_plus_ticket;
    std::string weak_plus_address;
    for (const auto& c : recipient_addresses(msg)) {
        auto pa = parse_plus_address(c.address);
        if (!pa || !is_our_address(desk, pa->base)) continue;
        auto t = lookup.by_number(pa->number);
        if (!t) {
            refused.push_back(c.where + " " + c.address + ": no such ticket");
            continue;
        }
        if (!pa->token.empty() && lookup.token_matches(t->id, pa->token))
            return matched(*t, Signal::plus_address,
                           c.where + " " + c.address + " with a valid token", refused);
        if (!pa->token.empty()) ++wrong_tokens;
        if (!weak_plus_ticket) {
            weak_plus_ticket = t;
            weak_plus_address = c.where + " " + c.address;
        }
    }

    // Weak forms: a tag or plus address without a valid token is only trusted from someone
    // already on that ticket (osTicket's rule). A stranger guessing numbers gets a new ticket.
    if (weak_tag_ticket) {
        const std::string shown = format_subject_tag(desk.subject_tag, weak_tag_ticket->number);
        if (!sender.empty() && lookup.is_participant(weak_tag_ticket->id, sender))
            return matched(*weak_tag_ticket, Signal::tag_participant,
                           "subject tag " + shown + " without a valid token, from participant " +
                               sender,
                           refused);
        refused.push_back("subject tag " + shown + " without a valid token, from " +
                          (sender.empty() ? std::string("an unknown sender") : sender) +
                          ", who is not a participant");
    }
    if (weak_plus_ticket) {
        if (!sender.empty() && lookup.is_participant(weak_plus_ticket->id, sender))
            return matched(*weak_plus_ticket, Signal::plus_participant,
                           weak_plus_address + " without a valid token, from participant " +
                               sender,
                           refused);
        refused.push_back(weak_plus_address + " without a valid token, from " +
                          (sender.empty() ? std::string("an unknown sender") : sender) +
                          ", who is not a participant");
    }

    // 4. Nothing ties it to a ticket.
    ThreadDecision d;
    d.evidence = "no threading signal matched";
    d.refused = std::move(refused);
    d.wrong_tokens = wrong_tokens;
    return d;
}

ReplyAction reply_action(const TicketRef& t, std::int64_t now, std::chrono::seconds window) {
    if (t.status == store::Status::open || t.status == store::Status::pending)
        return ReplyAction::append;
    const std::int64_t since = t.closed_at.value_or(t.updated_at);
    return now - since <= window.count() ? ReplyAction::reopen : ReplyAction::new_linked;
}

}  // namespace ticketd::tickets
