#include "store/ratings.h"

#include "store/database.h"
#include "store/report_rows.h"

namespace ticketd::store {

namespace {

constexpr const char* kRequestColumns =
    "id, ticket, resolved_at, outbox, message_id, recipient, agent, queue, asked_at";

CsatRequest read_request(Statement& st) {
    CsatRequest r;
    r.id = st.int64(0);
    r.ticket = st.int64(1);
    r.resolved_at = st.int64(2);
    r.outbox = st.opt_int64(3);
    r.message_id = st.text(4);
    r.recipient = st.text(5);
    r.agent = st.text(6);
    r.queue = st.text(7);
    r.asked_at = st.int64(8);
    return r;
}

constexpr const char* kRatingColumns = "request, ticket, score, word, comment, rated_at, message, message_id";

Rating read_rating(Statement& st) {
    Rating r;
    r.request = st.int64(0);
    r.ticket = st.int64(1);
    r.score = static_cast<int>(st.int64(2));
    r.word = st.text(3);
    r.comment = st.text(4);
    r.rated_at = st.int64(5);
    r.message = st.opt_int64(6);
    r.message_id = st.text(7);
    return r;
}

}  // namespace

Ratings::Ratings(Database& db) : db_(db) {}

std::int64_t Ratings::add_request(const CsatRequest& r) {
    auto st = db_.prepare(
        "INSERT INTO csat_requests (ticket, resolved_at, outbox, message_id, recipient, agent, queue, asked_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind_all(r.ticket, r.resolved_at, r.outbox, r.message_id, r.recipient, r.agent, r.queue, r.asked_at);
    st.run();
    return db_.last_insert_id();
}

std::optional<CsatRequest> Ratings::request_for(std::int64_t ticket, std::int64_t resolved_at) {
    auto st = db_.prepare(std::string("SELECT ") + kRequestColumns +
                          " FROM csat_requests WHERE ticket = ? AND resolved_at = ?");
    st.bind_all(ticket, resolved_at);
    if (!st.step()) return std::nullopt;
    return read_request(st);
}

std::optional<CsatRequest> Ratings::last_request(std::int64_t ticket) {
    auto st = db_.prepare(std::string("SELECT ") + kRequestColumns +
                          " FROM csat_requests WHERE ticket = ? ORDER BY asked_at DESC, id DESC LIMIT 1");
    st.bind(1, ticket);
    if (!st.step()) return std::nullopt;
    return read_request(st);
}

std::vector<CsatRequest> Ratings::requests_for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(std::string("SELECT ") + kRequestColumns +
                          " FROM csat_requests WHERE ticket = ? ORDER BY id");
    st.bind(1, ticket);
    std::vector<CsatRequest> out;
    while (st.step()) out.push_back(read_request(st));
    return out;
}

bool Ratings::rate(const Rating& r) {
    const bool replaced = rating_for_request(r.request).has_value();
    auto st = db_.prepare(
        "INSERT INTO ratings (request, ticket, score, word, comment, rated_at, message, message_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request) DO UPDATE SET score = excluded.score, "
        "word = excluded.word, comment = excluded.comment, rated_at = excluded.rated_at, "
        "message = excluded.message, message_id = excluded.message_id");
    st.bind_all(r.request, r.ticket, r.score, r.word, r.comment, r.rated_at, r.message, r.message_id);
    st.run();
    return replaced;
}

std::optional<Rating> Ratings::rating_for_request(std::int64_t request) {
    auto st = db_.prepare(std::string("SELECT ") + kRatingColumns + " FROM ratings WHERE request = ?");
    st.bind(1, request);
    if (!st.step()) return std::nullopt;
    return read_rating(st);
}

std::vector<Rating> Ratings::for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(std::string("SELECT ") + kRatingColumns +
                          " FROM ratings WHERE ticket = ? ORDER BY rated_at, request");
    st.bind(1, ticket);
    std::vector<Rating> out;
    while (st.step()) out.push_back(read_rating(st));
    return out;
}

}  // namespace ticketd::store

namespace ticketd::store {

void load_csat_rows(Database& db, const ReportQuery& q, ReportRows& rows) {
    // `ticketd report` never migrates: a desk older than migration 11 has no ratings to count.
    {
        auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ratings'");
        if (!st.step() || st.int64(0) == 0) return;
    }
    std::string filter;
    if (!q.queue.empty()) filter += " AND t.queue = ?3";
    if (!q.tag.empty()) filter += " AND EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket = t.id AND g.tag = ?4)";
    auto read = [&](const std::string& sql, std::vector<ReportCsat>& out) {
        auto st = db.prepare(sql);
        st.bind(1, q.since).bind(2, q.until);
        if (!q.queue.empty()) st.bind(3, q.queue);
        if (!q.tag.empty()) st.bind(4, q.tag);
        while (st.step()) {
            ReportCsat c;
            c.ticket = st.int64(0);
            c.at = st.int64(1);
            c.agent = st.text(2);
            c.queue = st.text(3);
            c.score = static_cast<int>(st.int64(4));
            out.push_back(std::move(c));
        }
    };
    // csat_requests(asked_at) and ratings(rated_at) (migration 11) select the period.
    read("SELECT c.ticket, c.asked_at, c.agent, t.queue, 0 FROM csat_requests c JOIN tickets t ON t.id = c.ticket "
         "WHERE c.asked_at >= ?1 AND c.asked_at < ?2" + filter + " ORDER BY c.asked_at, c.id",
         rows.csat_requests);
    read("SELECT r.ticket, r.rated_at, c.agent, t.queue, r.score FROM ratings r "
         "JOIN csat_requests c ON c.id = r.request JOIN tickets t ON t.id = r.ticket "
         "WHERE r.rated_at >= ?1 AND r.rated_at < ?2" + filter + " ORDER BY r.rated_at, r.request",
         rows.ratings);
}

}  // namespace ticketd::store
