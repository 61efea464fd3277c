#include "store/ratings.h"

#include "store/database.h"

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
