#include "store/outbox.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "store/database.h"
#include "store/tickets.h"

namespace ticketd::store {

namespace {

constexpr const char* kColumns =
    "id, ticket, message, kind, mail_from, recipients, auto_to, message_id, state, attempts, "
    "next_attempt_at, last_error, created_at, sent_at";

OutboxMail read_row(Statement& st, bool with_raw) {
    OutboxMail m;
    m.id = st.int64(0);
    m.ticket = st.opt_int64(1);
    m.message = st.opt_int64(2);
    m.kind = st.text(3);
    m.mail_from = st.text(4);
    auto rcpt = nlohmann::json::parse(st.text(5), nullptr, false);
    if (rcpt.is_array())
        for (const auto& r : rcpt)
            if (r.is_string()) m.recipients.push_back(r.get<std::string>());
    m.auto_to = st.text(6);
    m.message_id = st.text(7);
    m.state = parse_outbox_state(st.text(8)).value_or(OutboxState::queued);
    m.attempts = static_cast<int>(st.int64(9));
    m.next_attempt_at = st.int64(10);
    m.last_error = st.text(11);
    m.created_at = st.int64(12);
    m.sent_at = st.opt_int64(13);
    if (with_raw) m.raw = st.blob(14);
    return m;
}

std::vector<OutboxMail> read_rows(Statement& st, bool with_raw) {
    std::vector<OutboxMail> out;
    while (st.step()) out.push_back(read_row(st, with_raw));
    return out;
}

std::string select(bool with_raw) {
    return std::string("SELECT ") + kColumns + (with_raw ? ", raw" : "") + " FROM outbox ";
}

}  // namespace

const char* to_string(OutboxState s) {
    switch (s) {
        case OutboxState::queued: return "queued";
        case OutboxState::sent: return "sent";
        case OutboxState::failed: return "failed";
    }
    return "queued";
}

std::optional<OutboxState> parse_outbox_state(std::string_view s) {
    for (auto v : {OutboxState::queued, OutboxState::sent, OutboxState::failed})
        if (s == to_string(v)) return v;
    return std::nullopt;
}

std::int64_t retry_delay(int attempts, double jitter) {
    const int doublings = std::clamp(attempts - 1, 0, 6);  // 60 s * 2^6 = 64 min: the cap
    const double base = std::min(60.0 * std::pow(2.0, doublings), 3600.0);
    const double spread = 0.8 + 0.4 * std::clamp(jitter, 0.0, 1.0);
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(base * spread));
}

Outbox::Outbox(Database& db) : db_(db) {}

std::int64_t Outbox::enqueue(const OutboxMail& m) {
    const std::int64_t now = db_.now();
    auto st = db_.prepare(
        "INSERT INTO outbox (ticket, message, kind, mail_from, recipients, auto_to, message_id, raw, "
        "state, attempts, next_attempt_at, last_error, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,'queued',0,?,'',?)");
    st.bind_all(m.ticket, m.message, m.kind, m.mail_from, nlohmann::json(m.recipients).dump(), m.auto_to,
                m.message_id);
    st.bind_blob(8, m.raw);
    st.bind(9, now).bind(10, now);
    st.run();
    return db_.last_insert_id();
}

std::vector<OutboxMail> Outbox::due(std::int64_t now, int limit, bool with_raw) {
    auto st = db_.prepare(select(with_raw) +
                          "WHERE state = 'queued' AND (next_attempt_at <= ?1 OR next_attempt_at > ?1 + ?2) "
                          "ORDER BY next_attempt_at, id LIMIT ?3");
    st.bind_all(now, kMaxRetryDelay, limit);
    return read_rows(st, with_raw);
}

std::optional<std::int64_t> Outbox::next_due_at() {
    auto st = db_.prepare("SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'");
    if (!st.step()) return std::nullopt;
    auto next = st.opt_int64(0);
    // Beyond any backoff: scheduled under a clock that was later put back; due now (see due()).
    if (next && *next > db_.now() + kMaxRetryDelay) return db_.now();
    return next;
}

void Outbox::mark_sent(std::int64_t id, std::int64_t at, bool wait_for_disk) {
    // The level is per connection: lower it for this autocommit statement only, and put back
    // whatever it was (a database opened not durable stays OFF). Every statement here comes
    // from the connection's cache: this runs once per mail sent, and compiling the PRAGMAs
    // with exec each time was a measurable part of the sender's CPU.
    std::int64_t level = 0;
    if (!wait_for_disk && !db_.in_transaction()) {
        auto q = db_.prepare("PRAGMA synchronous");
        if (q.step()) level = q.int64(0);
    }
    const bool relax = level >= 2;  // FULL or EXTRA
    const auto restore = [&] { db_.prepare(level >= 3 ? "PRAGMA synchronous=EXTRA" : "PRAGMA synchronous=FULL").run(); };
    if (relax) db_.prepare("PRAGMA synchronous=NORMAL").run();
    try {
        auto st = db_.prepare(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?");
        st.bind_all(at, id);
        st.run();
    } catch (...) {
        if (relax) restore();
        throw;
    }
    if (relax) restore();
}

void Outbox::retry_later(std::int64_t id, const std::string& error, std::int64_t next_at) {
    auto st = db_.prepare(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
        "WHERE id = ? AND state = 'queued'");
    st.bind_all(error, next_at, id);
    st.run();
}

void Outbox::mark_failed(std::int64_t id, const std::string& error, std::int64_t at) {
    Transaction tx(db_);
    auto st = db_.prepare(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'queued'");
    st.bind_all(error, id);
    st.run();
    if (db_.changes() > 0) {
        if (auto m = get(id); m && m->ticket) {
            std::string to;
            for (const auto& r : m->recipients) to += (to.empty() ? "" : ", ") + r;
            Event ev;
            ev.ticket = m->ticket;
            ev.message = m->message;
            ev.at = at;
            ev.kind = "outbox.failed";
            ev.detail = m->kind + " <" + m->message_id + "> to " + to + " not delivered: " + error;
            Events(db_).add(ev);
        }
    }
    tx.commit();
}

bool Outbox::retry_now(std::int64_t id, std::int64_t now) {
    auto st = db_.prepare(
        "UPDATE outbox SET state = 'queued', next_attempt_at = ? WHERE id = ? AND state IN ('queued','failed')");
    st.bind_all(now, id);
    st.run();
    return db_.changes() > 0;
}

std::optional<OutboxMail> Outbox::get(std::int64_t id) {
    auto st = db_.prepare(select(true) + "WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_row(st, true);
}

std::vector<OutboxMail> Outbox::list(std::optional<OutboxState> state, int limit) {
    if (state) {
        auto st = db_.prepare(select(false) + "WHERE state = ? ORDER BY id DESC LIMIT ?");
        st.bind_all(std::string(to_string(*state)), limit);
        return read_rows(st, false);
    }
    auto st = db_.prepare(select(false) + "ORDER BY id DESC LIMIT ?");
    st.bind(1, limit);
    return read_rows(st, false);
}

std::vector<OutboxMail> Outbox::for_ticket(std::int64_t ticket) {
    auto st = db_.prepare(select(false) + "WHERE ticket = ? ORDER BY id");
    st.bind(1, ticket);
    return read_rows(st, false);
}

int Outbox::automatic_to_since(std::string_view address, std::int64_t since) {
    auto st = db_.prepare(
        "SELECT count(*) FROM outbox WHERE auto_to = ? AND auto_to <> '' AND created_at >= ? AND created_at <= ?");
    st.bind_all(address, since, db_.now());
    st.step();
    return static_cast<int>(st.int64(0));
}

std::int64_t Outbox::count(OutboxState state) {
    auto st = db_.prepare("SELECT count(*) FROM outbox WHERE state = ?");
    st.bind(1, std::string(to_string(state)));
    st.step();
    return st.int64(0);
}

}  // namespace ticketd::store
