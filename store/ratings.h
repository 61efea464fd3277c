#pragma once
// Satisfaction ratings by email (CSAT, issue 9): one csat_requests row per resolution we asked
// about, and the rating the requester gave in answer (migration 11). Writers run inside the
// caller's Transaction: a request row commits with its outbox row, a rating with its message.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ticketd::store {

class Database;

struct CsatRequest {
    std::int64_t id = 0;
    std::int64_t ticket = 0;
    std::int64_t resolved_at = 0;         ///< tickets.closed_at of the resolution asked about
    std::optional<std::int64_t> outbox;   ///< the request mail's outbox row
    std::string message_id;               ///< the request mail's Message-ID
    std::string recipient;                ///< who was asked (the requester)
    std::string agent;                    ///< who resolved it (an agent's mail), else the assignee
    std::string queue;                    ///< the ticket's queue when asked
    std::int64_t asked_at = 0;
};

struct Rating {
    std::int64_t request = 0;  ///< csat_requests.id: one rating per request, the last word counts
    std::int64_t ticket = 0;
    int score = 0;             ///< normalised to 1..5
    std::string word;          ///< what the requester wrote: "good", "4", "5 stars", "👍"
    std::string comment;
    std::int64_t rated_at = 0;
    std::optional<std::int64_t> message;  ///< messages.id of the reply
    std::string message_id;
};

class Ratings {
public:
    explicit Ratings(Database& db);

    /// Returns the new row's id.
    std::int64_t add_request(const CsatRequest& r);
    /// The request for this resolution of the ticket (tickets.closed_at), if one was sent.
    std::optional<CsatRequest> request_for(std::int64_t ticket, std::int64_t resolved_at);
    /// The ticket's newest request (min_interval).
    std::optional<CsatRequest> last_request(std::int64_t ticket);
    std::vector<CsatRequest> requests_for_ticket(std::int64_t ticket);

    /// Insert or replace the rating of `r.request`; true when it replaced an earlier one.
    bool rate(const Rating& r);
    std::optional<Rating> rating_for_request(std::int64_t request);
    /// Oldest first.
    std::vector<Rating> for_ticket(std::int64_t ticket);

private:
    Database& db_;
};

}  // namespace ticketd::store
