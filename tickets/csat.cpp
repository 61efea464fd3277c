#include "tickets/csat.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "parsers/headers.h"
#include "parsers/parse.h"
#include "store/database.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/ratings.h"
#include "tickets/acknowledge.h"
#include "tickets/agent_commands.h"
#include "tickets/mailer.h"

namespace ticketd::tickets {

namespace {

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string_view skip_blanks(std::string_view s) {
    while (!s.empty()) {
        if (space(s.front())) {
            s.remove_prefix(1);
        } else if (s.substr(0, 2) == "\xC2\xA0") {  // no-break space, common in HTML mail
            s.remove_prefix(2);
        } else if (s.substr(0, 3) == "\xEF\xBB\xBF") {  // byte order mark
            s.remove_prefix(3);
        } else {
            break;
        }
    }
    return s;
}

// Blanks on the same line only: a number on a line of its own is a rating whatever comes below.
std::string_view skip_line_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

// After a rating: nothing, a new line, or punctuation. Not another word or number.
bool ends_rating(std::string_view rest) {
    rest = skip_line_blanks(rest);
    if (rest.empty() || rest.front() == '\n' || rest.front() == '\r') return true;
    const char c = rest.front();
    if (std::string_view(",.;:!?-)(").find(c) != std::string_view::npos) return true;
    // En and em dash, and any emoji or symbol after the number ("5 🎉"): not a letter.
    return static_cast<unsigned char>(c) >= 0x80 && !alnum(c);
}

std::string comment_of(std::string_view rest) {
    // Separators between the rating and the comment: "good, thanks", "4 - slow", "bad: ...".
    for (;;) {
        rest = skip_blanks(rest);
        if (!rest.empty() && std::string_view(",.;:!-)").find(rest.front()) != std::string_view::npos) {
            rest.remove_prefix(1);
        } else if (rest.substr(0, 3) == "\xE2\x80\x93" || rest.substr(0, 3) == "\xE2\x80\x94") {  // – —
            rest.remove_prefix(3);
        } else {
            break;
        }
    }
    while (!rest.empty() && space(rest.back())) rest.remove_suffix(1);
    // A comment is a few lines; a novel goes to the message, which is stored whole anyway.
    constexpr std::size_t kMax = 2000;
    if (rest.size() > kMax) {
        std::size_t cut = kMax;
        while (cut > 0 && (static_cast<unsigned char>(rest[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
        rest = rest.substr(0, cut);
    }
    return std::string(rest);
}

struct Word {
    std::string_view text;
    int score;
};

// Longest first where one is the prefix of another ("very good" before "very").
constexpr std::array<Word, 28> kWords{{
    {"very good", 5}, {"very bad", 1}, {"not good", 1}, {"not bad", 4}, {"thumbs up", 5},
    {"thumbs down", 1}, {"excellent", 5}, {"fantastic", 5}, {"wonderful", 5}, {"brilliant", 5},
    {"awesome", 5}, {"amazing", 5}, {"perfect", 5}, {"great", 5}, {"super", 5}, {"good", 5},
    {"okay", 3}, {"ok", 3}, {"average", 3}, {"neutral", 3}, {"meh", 3}, {"poor", 2},
    {"terrible", 1}, {"horrible", 1}, {"awful", 1}, {"useless", 1}, {"bad", 1}, {"worst", 1},
}};

}  // namespace

std::optional<ParsedRating> parse_rating(std::string_view text) {
    const std::string_view s = skip_blanks(text);
    if (s.empty()) return std::nullopt;
    ParsedRating r;

    // 👍 / 👎, with or without a skin tone (U+1F3FB..U+1F3FF).
    for (const auto& [emoji, score] : {std::pair<std::string_view, int>{"\xF0\x9F\x91\x8D", 5},
                                       std::pair<std::string_view, int>{"\xF0\x9F\x91\x8E", 1}}) {
        if (s.substr(0, emoji.size()) != emoji) continue;
        std::size_t n = emoji.size();
        if (s.size() >= n + 4 && s.substr(n, 3) == "\xF0\x9F\x8F" && static_cast<unsigned char>(s[n + 3]) >= 0xBB &&
            static_cast<unsigned char>(s[n + 3]) <= 0xBF)
            n += 4;
        r.score = score;
        r.word = std::string(s.substr(0, n));
        r.comment = comment_of(s.substr(n));
        return r;
    }

    // Star emoji: ⭐ (U+2B50) or ★ (U+2605), each maybe with VS16 (U+FE0F); one to five of them.
    {
        std::size_t n = 0;
        int stars = 0;
        for (;;) {
            const auto at = s.substr(n);
            if (at.substr(0, 3) == "\xE2\xAD\x90" || at.substr(0, 3) == "\xE2\x98\x85") {
                n += 3;
                ++stars;
                if (s.substr(n, 3) == "\xEF\xB8\x8F") n += 3;
            } else if (stars > 0 && (at.substr(0, 1) == " ")) {
                // "⭐ ⭐ ⭐": spaces between stars, not after the last one.
                std::size_t k = 0;
                while (k < at.size() && at[k] == ' ') ++k;
                const auto next = at.substr(k);
                if (next.substr(0, 3) == "\xE2\xAD\x90" || next.substr(0, 3) == "\xE2\x98\x85")
                    n += k;
                else
                    break;
            } else {
                break;
            }
        }
        if (stars >= 1 && stars <= 5) {
            r.score = stars;
            r.word = std::string(s.substr(0, n));
            r.comment = comment_of(s.substr(n));
            return r;
        }
        if (stars > 5) return std::nullopt;
    }

    // A number 1..5 on its own, or "4/5", "4 / 5", "4 out of 5", "5 stars", "1 star".
    if (s.front() >= '1' && s.front() <= '5' && (s.size() == 1 || !alnum(s[1]))) {
        r.score = s.front() - '0';
        std::size_t n = 1;
        auto rest = s.substr(n);
        auto after = skip_line_blanks(rest);
        if (!after.empty() && after.front() == '/') {
            auto d = skip_line_blanks(after.substr(1));
            if (d.empty() || d.front() != '5' || (d.size() > 1 && alnum(d[1]))) return std::nullopt;  // "4/10", "2/3"
            n = s.size() - d.size() + 1;
        } else if (starts_with_ci(after, "out of")) {
            auto d = skip_line_blanks(after.substr(6));
            if (d.empty() || d.front() != '5' || (d.size() > 1 && alnum(d[1]))) return std::nullopt;
            n = s.size() - d.size() + 1;
        } else if (starts_with_ci(after, "stars") && (after.size() == 5 || !alnum(after[5]))) {
            n = s.size() - after.size() + 5;
        } else if (starts_with_ci(after, "star") && (after.size() == 4 || !alnum(after[4]))) {
            n = s.size() - after.size() + 4;
        }
        if (!ends_rating(s.substr(n))) return std::nullopt;  // "1 more question", "3 printers"
        r.word = std::string(s.substr(0, n));
        r.comment = comment_of(s.substr(n));
        return r;
    }

    for (const auto& w : kWords) {
        if (!starts_with_ci(s, w.text)) continue;
        // Like a number, a word must end the rating: "good, thanks" rates, but "Good morning, it
        // broke again" and "Bad news: ..." are ordinary replies that must reopen the ticket.
        // Missing a rating costs an agent a glance; taking a new problem for a rating hides it.
        if (!ends_rating(s.substr(w.text.size()))) continue;
        r.score = w.score;
        r.word = std::string(s.substr(0, w.text.size()));
        r.comment = comment_of(s.substr(w.text.size()));
        return r;
    }
    return std::nullopt;
}

std::optional<RatingReply> rating_reply(store::Database& db, const config::Config& cfg, const store::Ticket& t,
                                        const parsers::Message& msg) {
    if (!cfg.csat.enabled) return std::nullopt;
    if (t.status != store::Status::resolved && t.status != store::Status::closed) return std::nullopt;
    if (!t.closed_at) return std::nullopt;
    const auto* from = msg.author();
    if (!from || from->address.empty()) return std::nullopt;
    auto request = store::Ratings(db).request_for(t.id, *t.closed_at);
    // Only the address we asked rates: a cc's "good" is a message like any other.
    if (!request || parsers::ascii_lower(request->recipient) != parsers::ascii_lower(from->address))
        return std::nullopt;
    auto parsed = parse_rating(msg.new_text.empty() ? msg.body : msg.new_text);
    if (!parsed) return std::nullopt;
    return RatingReply{request->id, std::move(*parsed)};
}

void record_rating(store::Database& db, const config::Config& cfg, const RatingReply& r, const store::Ticket& t,
                   const parsers::Message& msg, std::int64_t message_row, std::int64_t inbox_id, std::int64_t now) {
    const std::string& message_id = msg.message_id;
    store::Ratings ratings(db);
    const auto earlier = ratings.rating_for_request(r.request);
    store::Rating row;
    row.request = r.request;
    row.ticket = t.id;
    row.score = r.rating.score;
    row.word = r.rating.word;
    row.comment = r.rating.comment;
    row.rated_at = now;
    row.message = message_row;
    row.message_id = message_id;
    ratings.rate(row);
    std::string detail = "rating " + std::to_string(r.rating.score) + "/5 ('" + r.rating.word + "')";
    if (!r.rating.comment.empty()) {
        // The first line of the comment; the whole of it is on the message and in the ratings row.
        detail += ": " + r.rating.comment.substr(0, std::min(r.rating.comment.find('\n'), std::size_t{200}));
    }
    if (earlier)
        detail += "; replaces the earlier rating " + std::to_string(earlier->score) + "/5 ('" + earlier->word + "')";
    detail += "; the ticket stays " + std::string(store::to_string(t.status));
    store::Event ev;
    ev.ticket = t.id;
    ev.message = message_row;
    ev.inbox_id = inbox_id ? std::optional<std::int64_t>(inbox_id) : std::nullopt;
    ev.at = now;
    ev.kind = "csat.rated";
    ev.detail = detail;
    store::Events(db).add(ev);

    // A bad rating reaches the agent who resolved the ticket (the one on the request), so it is
    // not first seen in next week's report. Only a configured agent; never the requester.
    if (r.rating.score > 2 || !cfg.smtp) return;
    std::string agent_address;
    for (const auto& q : ratings.requests_for_ticket(t.id))
        if (q.id == r.request) agent_address = q.agent;
    const auto* agent = find_agent(cfg, agent_address);
    const auto tmpl = cfg.templates.find("agent_notification");
    if (!agent || tmpl == cfg.templates.end()) return;
    Mailer mailer(db, cfg, t, message_row, inbox_id, now);
    const auto rendered = config::render(tmpl->second, mail_context(cfg, t, &msg, false));
    mailer.queue("csat_bad_rating",
                 mailer.from_desk(rendered, {agent->name, agent->address}, &msg, mail::AutoSubmitted::auto_generated),
                 "");
}

void ask_for_rating(store::Database& db, const config::Config& cfg, const store::Ticket& t, const std::string& agent,
                    std::optional<std::int64_t> about, std::int64_t inbox_id, std::int64_t now) {
    const auto& c = cfg.csat;
    if (!c.enabled || !cfg.smtp) return;  // nothing is sent without smtp:
    if (t.status != store::Status::resolved || !t.closed_at) return;
    store::Ratings ratings(db);
    if (ratings.request_for(t.id, *t.closed_at)) return;  // asked about this resolution already

    Mailer mailer(db, cfg, t, about, inbox_id, now);
    auto not_asked = [&](const std::string& why) { mailer.event("csat.not_asked", "no rating request: " + why); };
    if (!c.queues.empty() && std::find(c.queues.begin(), c.queues.end(), t.queue) == c.queues.end()) {
        not_asked("queue '" + t.queue + "' is not in csat.queues");
        return;
    }
    if (auto last = ratings.last_request(t.id); last && now - last->asked_at < c.min_interval.count()) {
        not_asked("asked " + std::to_string(now - last->asked_at) + "s ago (csat.min_interval " +
                  std::to_string(c.min_interval.count()) + "s)");
        return;
    }

    // The mail that opened the ticket is judged as the acknowledgement judged it: no rating
    // requests to automatic senders, lists, machines, agents or ourselves.
    const std::string to = parsers::ascii_lower(t.requester_address);
    std::optional<std::int64_t> opening_inbox;
    for (const auto& m : store::Messages(db).for_ticket(t.id))
        if (m.direction == store::Direction::in && m.kind == store::MessageKind::requester && m.inbox_id &&
            parsers::ascii_lower(m.from_address) == to) {
            opening_inbox = m.inbox_id;
            break;
        }
    if (to.empty() || !opening_inbox) {
        not_asked("no mail of the requester's on the ticket to judge the address by");
        return;
    }
    const std::string raw = store::Inbox(db).raw(*opening_inbox);
    auto parsed = raw.empty() ? parsers::ParseResult{parsers::ParseError{}} : parsers::parse(raw, cfg.limits);
    const auto* opening = std::get_if<parsers::Message>(&parsed);
    if (!opening) {
        // Retention dropped the bytes (or they no longer parse): when in doubt, no automatic mail.
        not_asked("the requester's first mail is no longer stored whole, so it cannot be judged");
        return;
    }
    if (auto why = automatic_mail_refusal(*opening, cfg, store::Outbox(db).automatic_to_since(to, now - 3600))) {
        not_asked(*why);
        return;
    }
    auto tmpl = cfg.templates.find(c.template_name);
    if (tmpl == cfg.templates.end()) {  // config load checks it; a reload race is all that is left
        not_asked("no template '" + c.template_name + "'");
        return;
    }

    auto ctx = mail_context(cfg, t, nullptr, false);
    ctx[c.scale == config::CsatConfig::Scale::one_to_five ? "csat.one_to_five" : "csat.good_bad"] = "yes";
    const auto rendered = config::render(tmpl->second, ctx);
    auto mail = mailer.from_desk(rendered, {t.requester_name, t.requester_address}, opening,
                                 mail::AutoSubmitted::auto_generated);
    mail.message_id = mailer.next_message_id();
    const std::int64_t outbox = mailer.queue("csat_request", mail, to);

    store::CsatRequest req;
    req.ticket = t.id;
    req.resolved_at = *t.closed_at;
    req.outbox = outbox;
    req.message_id = mail.message_id;
    req.recipient = to;
    req.agent = agent.empty() ? t.assignee : agent;
    req.queue = t.queue;
    req.asked_at = now;
    ratings.add_request(req);
    mailer.event("csat.requested", "rating requested from " + to + " (template " + tmpl->first +
                                       (req.agent.empty() ? std::string() : ", resolved by " + req.agent) + ")");
}

void csat_hook(store::Database& db, const Ingested& ing) {
    const auto& t = ing.ticket;
    if (!ing.config.csat.enabled || t.status != store::Status::resolved || !t.closed_at || !ing.outcome.message)
        return;
    // Resolved by this message (the agent's #status, a rule): the resolution is stamped with the
    // time the message was recorded. An earlier resolution is not this message's to ask about.
    const auto m = store::Messages(db).get(*ing.outcome.message);
    if (!m || *t.closed_at < m->created_at) return;
    std::string agent;
    if (const auto* from = ing.message.author(); from && find_agent(ing.config, from->address))
        agent = parsers::ascii_lower(from->address);
    ask_for_rating(db, ing.config, t, agent, ing.outcome.message, ing.outcome.inbox_id, db.now());
}

}  // namespace ticketd::tickets
