#include "store/status.h"

namespace ticketd::store {

void record_poll(Database& db, const std::string& account, bool ok, std::int64_t at, const std::string& error) {
    if (ok) {
        db.prepare(
              "INSERT INTO mailbox_polls (account, last_poll_at, last_ok_at, failing_since, failures, last_error) "
              "VALUES (?1, ?2, ?2, NULL, 0, '') "
              "ON CONFLICT (account) DO UPDATE SET last_poll_at = ?2, last_ok_at = ?2, failing_since = NULL, "
              "failures = 0, last_error = ''")
            .bind_all(account, at)
            .run();
    } else {
        db.prepare(
              "INSERT INTO mailbox_polls (account, last_poll_at, last_ok_at, failing_since, failures, last_error) "
              "VALUES (?1, ?2, NULL, ?2, 1, ?3) "
              "ON CONFLICT (account) DO UPDATE SET last_poll_at = ?2, "
              "failing_since = COALESCE(failing_since, ?2), failures = failures + 1, last_error = ?3")
            .bind_all(account, at, error)
            .run();
    }
}

namespace {

bool table_exists(Database& db, const std::string& name) {
    auto st = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    st.bind(1, name);
    return st.step();
}

/// The outbox is issue 5's table: count its rows by its state column, whatever it is called.
std::map<std::string, std::int64_t> outbox_counts(Database& db) {
    std::string column;
    auto info = db.prepare("SELECT name FROM pragma_table_info('outbox')");
    while (info.step()) {
        auto name = info.text(0);
        if (name == "state" || name == "status") column = name;
    }
    std::map<std::string, std::int64_t> out;
    if (column.empty()) {
        auto st = db.prepare("SELECT count(*) FROM outbox");
        if (st.step()) out["total"] = st.int64(0);
        return out;
    }
    // The column name comes from the schema (one of two literals above), never from input.
    auto st = db.prepare("SELECT " + column + ", count(*) FROM outbox GROUP BY 1 ORDER BY 1");
    while (st.step()) out[st.text(0)] = st.int64(1);
    return out;
}

}  // namespace

DeskStatus read_status(Database& db) {
    DeskStatus s;
    s.schema_version = db.schema_version();
    s.now = db.now();

    std::map<std::string, MailboxStatus> boxes;
    {
        auto st = db.prepare(
            "SELECT account, last_poll_at, last_ok_at, failing_since, failures, last_error FROM mailbox_polls");
        while (st.step()) {
            auto& m = boxes[st.text(0)];
            m.account = st.text(0);
            m.last_poll_at = st.opt_int64(1);
            m.last_ok_at = st.opt_int64(2);
            m.failing_since = st.opt_int64(3);
            m.failures = st.int64(4);
            m.last_error = st.text(5);
        }
    }
    {
        auto st = db.prepare("SELECT account, mailbox, uidvalidity, last_uid, updated_at FROM mailbox_cursors");
        while (st.step()) {
            auto& m = boxes[st.text(0)];
            m.account = st.text(0);
            m.mailbox = st.text(1);
            m.uidvalidity = st.int64(2);
            m.last_uid = st.int64(3);
            m.cursor_updated_at = st.int64(4);
        }
    }
    for (auto& [_, m] : boxes) s.mailboxes.push_back(std::move(m));

    for (const char* state : {"pending", "done", "quarantined"}) s.inbox[state] = 0;
    {
        auto st = db.prepare("SELECT state, count(*) FROM inbox GROUP BY state");
        while (st.step()) s.inbox[st.text(0)] = st.int64(1);
    }
    {
        auto st = db.prepare("SELECT count(*) FROM inbox WHERE acknowledged = 0 AND uid IS NOT NULL");
        if (st.step()) s.unacknowledged = st.int64(0);
    }
    {
        auto st = db.prepare("SELECT min(received_at) FROM inbox WHERE state = 'pending'");
        if (st.step()) s.oldest_pending_at = st.opt_int64(0);
    }
    for (const char* status : {"open", "pending", "resolved", "closed"}) s.tickets[status] = 0;
    {
        auto st = db.prepare("SELECT status, count(*) FROM tickets GROUP BY status");
        while (st.step()) s.tickets[st.text(0)] = st.int64(1);
    }
    if (table_exists(db, "outbox")) s.outbox = outbox_counts(db);
    return s;
}

}  // namespace ticketd::store
