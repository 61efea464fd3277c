#include "store/sla.h"

#include <nlohmann/json.hpp>

#include "store/database.h"

namespace ticketd::store {

namespace {

std::string tags_json(const std::vector<std::string>& tags) { return nlohmann::json(tags).dump(); }

std::vector<std::string> tags_of(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    std::vector<std::string> out;
    if (!j.is_array()) return out;
    for (const auto& t : j)
        if (t.is_string()) out.push_back(t.get<std::string>());
    return out;
}

}  // namespace

SlaStore::SlaStore(Database& db) : db_(db) {}

std::optional<SlaTicketRow> SlaStore::ticket(std::int64_t ticket) {
    auto st = db_.prepare(
        "SELECT policy, policy_since, status, priority, queue, tags, next_wakeup, updated_at "
        "FROM sla_tickets WHERE ticket = ?");
    st.bind(1, ticket);
    if (!st.step()) return std::nullopt;
    SlaTicketRow r;
    r.ticket = ticket;
    r.policy = st.text(0);
    r.policy_since = st.int64(1);
    r.facts.status = st.text(2);
    r.facts.priority = st.text(3);
    r.facts.queue = st.text(4);
    r.facts.tags = tags_of(st.text(5));
    r.next_wakeup = st.opt_int64(6);
    r.updated_at = st.int64(7);
    return r;
}

void SlaStore::put_ticket(const SlaTicketRow& r) {
    db_.prepare(
           "INSERT OR REPLACE INTO sla_tickets (ticket, policy, policy_since, status, priority, queue, tags, "
           "next_wakeup, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(r.ticket, r.policy, r.policy_since, r.facts.status, r.facts.priority, r.facts.queue,
                  tags_json(r.facts.tags), r.next_wakeup, r.updated_at)
        .run();
}

std::vector<SlaHistoryRow> SlaStore::history(std::int64_t ticket) {
    auto st = db_.prepare("SELECT at, kind, value, queue, tags FROM sla_history WHERE ticket = ? ORDER BY id");
    st.bind(1, ticket);
    std::vector<SlaHistoryRow> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), tags_of(st.text(4))});
    return out;
}

void SlaStore::add_history(std::int64_t ticket, const SlaHistoryRow& r) {
    db_.prepare("INSERT INTO sla_history (ticket, at, kind, value, queue, tags) VALUES (?, ?, ?, ?, ?, ?)")
        .bind_all(ticket, r.at, r.kind, r.value, r.queue, tags_json(r.tags))
        .run();
}

std::vector<SlaClockRow> SlaStore::clocks(std::int64_t ticket) {
    auto st = db_.prepare(
        "SELECT target, policy, state, goal, started_at, due_at, paused_since, paused_total, satisfied_at, "
        "breached_at, stopped_at, elapsed, reminders_sent, updated_at FROM sla_clocks WHERE ticket = ? "
        "ORDER BY CASE target WHEN 'first_response' THEN 0 WHEN 'next_response' THEN 1 ELSE 2 END");
    st.bind(1, ticket);
    std::vector<SlaClockRow> out;
    while (st.step()) {
        SlaClockRow r;
        r.ticket = ticket;
        r.target = st.text(0);
        r.policy = st.text(1);
        r.state = st.text(2);
        r.goal = st.int64(3);
        r.started_at = st.int64(4);
        r.due_at = st.opt_int64(5);
        r.paused_since = st.opt_int64(6);
        r.paused_total = st.int64(7);
        r.satisfied_at = st.opt_int64(8);
        r.breached_at = st.opt_int64(9);
        r.stopped_at = st.opt_int64(10);
        r.elapsed = st.int64(11);
        r.reminders_sent = static_cast<int>(st.int64(12));
        r.updated_at = st.int64(13);
        out.push_back(std::move(r));
    }
    return out;
}

void SlaStore::replace_clocks(std::int64_t ticket, const std::vector<SlaClockRow>& rows) {
    db_.prepare("DELETE FROM sla_clocks WHERE ticket = ?").bind(1, ticket).run();
    for (const auto& r : rows)
        db_.prepare(
               "INSERT INTO sla_clocks (ticket, target, policy, state, goal, started_at, due_at, paused_since, "
               "paused_total, satisfied_at, breached_at, stopped_at, elapsed, reminders_sent, updated_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind_all(ticket, r.target, r.policy, r.state, r.goal, r.started_at, r.due_at, r.paused_since,
                      r.paused_total, r.satisfied_at, r.breached_at, r.stopped_at, r.elapsed, r.reminders_sent,
                      r.updated_at)
            .run();
}

std::set<std::string> SlaStore::fired(std::int64_t ticket) {
    auto st = db_.prepare("SELECT key FROM sla_alarms_fired WHERE ticket = ?");
    st.bind(1, ticket);
    std::set<std::string> out;
    while (st.step()) out.insert(st.text(0));
    return out;
}

bool SlaStore::mark_fired(std::int64_t ticket, const std::string& key, const std::string& kind, std::int64_t at) {
    db_.prepare("INSERT OR IGNORE INTO sla_alarms_fired (ticket, key, kind, fired_at) VALUES (?, ?, ?, ?)")
        .bind_all(ticket, key, kind, at)
        .run();
    return db_.changes() == 1;
}

int SlaStore::reminders_fired(std::int64_t ticket, const std::string& key_prefix) {
    auto st = db_.prepare(
        "SELECT COUNT(*) FROM sla_alarms_fired WHERE ticket = ? AND kind = 'reminder' AND substr(key, 1, ?) = ?");
    st.bind_all(ticket, static_cast<std::int64_t>(key_prefix.size()), key_prefix);
    return st.step() ? static_cast<int>(st.int64(0)) : 0;
}

std::vector<SlaMessageMark> SlaStore::messages(std::int64_t ticket) {
    auto st = db_.prepare("SELECT created_at, direction, kind FROM messages WHERE ticket = ? ORDER BY id");
    st.bind(1, ticket);
    std::vector<SlaMessageMark> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2)});
    return out;
}

std::optional<std::int64_t> SlaStore::earliest_wakeup() {
    auto st = db_.prepare("SELECT MIN(next_wakeup) FROM sla_tickets WHERE next_wakeup IS NOT NULL");
    if (!st.step()) return std::nullopt;
    return st.opt_int64(0);
}

std::vector<std::int64_t> SlaStore::due(std::int64_t now, int limit) {
    auto st = db_.prepare(
        "SELECT ticket FROM sla_tickets WHERE next_wakeup IS NOT NULL AND next_wakeup <= ? "
        "ORDER BY next_wakeup LIMIT ?");
    st.bind_all(now, limit);
    std::vector<std::int64_t> out;
    while (st.step()) out.push_back(st.int64(0));
    return out;
}

SlaStore::Counts SlaStore::counts(std::int64_t now) {
    // A running clock past its due time is breached even when no daemon has looked since.
    static const std::string breached =
        "(c.state = 'breached' OR (c.state = 'running' AND c.due_at <= ?1)) AND c.stopped_at IS NULL";
    Counts out;
    auto st = db_.prepare("SELECT COUNT(DISTINCT c.ticket) FROM sla_clocks c JOIN tickets t ON t.id = c.ticket "
                          "WHERE " + breached + " AND t.status IN ('open','pending')");
    st.bind(1, now);
    if (st.step()) out.breached = st.int64(0);
    auto risk = db_.prepare(
        "SELECT COUNT(DISTINCT c.ticket) FROM sla_clocks c JOIN tickets t ON t.id = c.ticket "
        "WHERE c.state IN ('running','paused') AND (c.due_at IS NULL OR c.due_at > ?1) AND c.reminders_sent > 0 "
        "AND t.status IN ('open','pending') AND NOT EXISTS (SELECT 1 FROM sla_clocks b WHERE b.ticket = c.ticket "
        "AND (b.state = 'breached' OR (b.state = 'running' AND b.due_at <= ?1)) AND b.stopped_at IS NULL)");
    risk.bind(1, now);
    if (risk.step()) out.at_risk = risk.int64(0);
    return out;
}

std::vector<SlaReportRow> SlaStore::report_rows(std::int64_t since) {
    auto st = db_.prepare(
        "SELECT c.ticket, c.policy, t.queue, c.target, c.state, c.elapsed FROM sla_clocks c "
        "JOIN tickets t ON t.id = c.ticket WHERE t.created_at >= ? ORDER BY c.ticket");
    st.bind(1, since);
    std::vector<SlaReportRow> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4), st.int64(5)});
    return out;
}

}  // namespace ticketd::store
