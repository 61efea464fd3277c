#pragma once
// What the service-desk reports (issue 9, reports/) read from the database: the tickets that
// matter for a period, their status changes, their agents' answers and message counts. Plain rows;
// every figure is computed by the pure functions in reports/report.h.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ticketd::store {

class Database;

struct ReportTicket {
    std::int64_t id = 0;
    std::int64_t number = 0;
    std::string requester;  ///< tickets.requester_address, lower-case
    std::string status;     ///< as it stands now: open, pending, resolved, closed
    std::string priority;
    std::string queue;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> closed_at;
    std::vector<std::string> tags;     ///< sorted
    std::vector<std::int64_t> agent_answers;  ///< created_at of its kind='agent' messages, ascending
    std::int64_t human_messages = 0;   ///< messages of kind requester or agent
};

/// A status change from the trail: `ticket.status` and `ticket.reopened` events ("a -> b: why"),
/// and an agent's #status (`agent.command` "agent@x: status a -> b").
struct ReportStatusChange {
    std::int64_t ticket = 0;
    std::int64_t at = 0;
    std::string from, to;
};

/// A CSAT request (at = asked_at) or rating (at = rated_at, the last word's) in [since, until),
/// migration 11; the rows of a desk older than it are empty.
struct ReportCsat {
    std::int64_t ticket = 0;
    std::int64_t at = 0;
    std::string agent;  ///< who resolved the ticket (else its assignee then); "" when neither
    std::string queue;  ///< the ticket's queue as it stands now, like the report's --queue
    int score = 0;      ///< 1..5 for a rating, 0 for a request
};

struct ReportQuery {
    std::int64_t since = 0, until = 0;  ///< the instants [since, until) the report covers
    std::string queue;                  ///< "" any; else the ticket's queue as it stands now
    std::string tag;                    ///< "" any; else the ticket carries it now
    /// When set: also count the tags of tickets opened in [previous_since, since) (tag trends).
    std::optional<std::int64_t> previous_since;
};

struct ReportRows {
    std::vector<ReportTicket> tickets;             ///< by id
    std::vector<ReportStatusChange> changes;       ///< by ticket, then in the order recorded
    /// Tickets opened in [previous_since, since) per tag (same filters); empty without previous_since.
    std::map<std::string, std::int64_t> previous_tags;
    std::vector<ReportCsat> csat_requests, ratings;  ///< by time (store/ratings.cpp loads them)
};

/// Fills rows.csat_requests and rows.ratings for the query (same filters); store/ratings.cpp.
void load_csat_rows(Database& db, const ReportQuery& q, ReportRows& rows);

/// Every ticket that can count in [since, until): created before `until` and either not
/// resolved/closed now, or resolved/closed at or after `since`, or with a status change in
/// [since, until). Tickets resolved before `since` and untouched since then cannot change any
/// figure of the period and are not read. Messages and status changes are those recorded before
/// `until`: a report on a past period does not change when the desk moves on.
ReportRows load_report_rows(Database& db, const ReportQuery& q);

/// Parses "open -> resolved: ..." into (from, to); false when the detail has no such prefix.
bool parse_status_detail(const std::string& detail, std::string& from, std::string& to);

/// Scheduled digests (report_digests, migration 8): has this digest's period been queued? And
/// record that it was, with its outbox row, in the caller's transaction.
bool digest_recorded(Database& db, const std::string& digest, std::int64_t period_start);
void record_digest(Database& db, const std::string& digest, std::int64_t period_start, std::int64_t period_end,
                   std::int64_t outbox_id, std::int64_t now);

/// Open and pending tickets now, and the creation time of the oldest of them (for /metrics).
struct Backlog {
    std::int64_t open = 0, pending = 0;
    std::optional<std::int64_t> oldest_created_at;
};
Backlog read_backlog(Database& db);

}  // namespace ticketd::store
