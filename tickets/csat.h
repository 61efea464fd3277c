#pragma once
// Satisfaction ratings by email (CSAT, issue 9). When a ticket becomes resolved, its requester is
// asked (outbox mail `csat_request`, in the transaction of the change) for a one-word rating; a
// reply that starts with one is recorded as a rating and does not reopen the ticket.
//
// The pieces: parse_rating() decides "is this a rating" (pure); ask_for_rating() is the pipeline
// hook that asks (every path that resolves a ticket runs inside Pipeline::record, so the hook is
// the one place); rating_reply() / record_rating() are what Pipeline::record calls before its
// reopen decision.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "parsers/message.h"
#include "store/tickets.h"
#include "tickets/pipeline.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::tickets {

struct ParsedRating {
    int score = 0;        ///< 1..5: good/great 5, ok 3, bad 1, a number as given
    std::string word;     ///< as written: "Good", "4/5", "5 stars", "👍"
    std::string comment;  ///< the rest, separators and surrounding blanks trimmed
};

/// Whether the new text of a reply (quoted history already removed) starts with a rating: a word
/// (good, great, excellent, ok, bad, poor, terrible, "very good", "not bad", "thumbs up", ...), a
/// number 1..5 alone or as "4/5", "4 out of 5", "5 stars", 1 to 5 star emoji, or 👍/👎. A
/// word or number must stand alone, followed only by the end, a new line or punctuation ("1 more
/// question", "Good morning, ..." and "Bad news: ..." are not ratings). Pure.
std::optional<ParsedRating> parse_rating(std::string_view text);

/// A reply that rates the ticket's current resolution.
struct RatingReply {
    std::int64_t request = 0;  ///< csat_requests.id
    ParsedRating rating;
};

/// The rating `msg` gives, when it answers the CSAT request of `t`'s current resolution: CSAT
/// enabled, `t` resolved or closed with a request for that resolution, `msg` from the address that
/// was asked, and its new text starting with a rating. Otherwise nullopt: the reply is ordinary.
std::optional<RatingReply> rating_reply(store::Database& db, const config::Config& cfg, const store::Ticket& t,
                                        const parsers::Message& msg);

/// Store the rating (replacing an earlier one for the same request) and put it on the trail
/// (`csat.rated`), in the caller's transaction. A bad rating (1 or 2) is passed on to the agent
/// who resolved the ticket (template agent_notification, outbox kind `csat_bad_rating`).
void record_rating(store::Database& db, const config::Config& cfg, const RatingReply& r, const store::Ticket& t,
                   const parsers::Message& msg, std::int64_t message_row, std::int64_t inbox_id, std::int64_t now);

/// Ask the requester of `t` for a rating of its current resolution (`csat.requested` or
/// `csat.not_asked` with the reason on the trail), unless asked already. `agent`: who resolved it
/// ("" : the assignee counts). `about`: the message that resolved it (may be null), `inbox_id` 0
/// when no inbox entry caused it. For paths outside the pipeline (a CLI, a timer).
void ask_for_rating(store::Database& db, const config::Config& cfg, const store::Ticket& t, const std::string& agent,
                    std::optional<std::int64_t> about, std::int64_t inbox_id, std::int64_t now);

/// The pipeline hook: when the message just recorded resolved its ticket, ask_for_rating().
void csat_hook(store::Database& db, const Ingested& ing);

}  // namespace ticketd::tickets
