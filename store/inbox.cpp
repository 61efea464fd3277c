#include "store/inbox.h"

#include <algorithm>

#include "store/database.h"
#include "store/hash.h"

namespace ticketd::store {

namespace {

constexpr const char* kEntryColumns =
    "id, source, uidvalidity, uid, state, error, attempts, acknowledged, sha256, received_at, "
    "account, mailbox, processed_at, outcome, ticket, size, length(raw)";

InboxState parse_state(const std::string& s) {
    if (s == "done") return InboxState::done;
    if (s == "quarantined") return InboxState::quarantined;
    return InboxState::pending;
}

/// Outcomes of placeholder rows: the message is on the server, its bytes are not here.
bool is_unfetchable_outcome(const std::string& outcome) {
    return outcome == "fetch_failed" || outcome == "too_large";
}

InboxEntry read_entry(const Statement& st) {
    InboxEntry e;
    e.id = st.int64(0);
    e.source = st.text(1);
    if (!st.is_null(2)) e.uidvalidity = static_cast<std::uint64_t>(st.int64(2));
    if (!st.is_null(3)) e.uid = static_cast<std::uint64_t>(st.int64(3));
    e.state = parse_state(st.text(4));
    e.error = st.text(5);
    e.attempts = static_cast<int>(st.int64(6));
    e.acknowledged = st.int64(7) != 0;
    e.sha256 = st.text(8);
    e.received_at = st.int64(9);
    e.account = st.text(10);
    e.mailbox = st.text(11);
    e.processed_at = st.opt_int64(12);
    e.outcome = st.text(13);
    e.ticket = st.opt_int64(14);
    e.size = static_cast<std::uint64_t>(st.int64(15));
    e.pruned = e.size > 0 && st.int64(16) == 0;
    return e;
}

std::vector<InboxEntry> read_entries(Statement& st) {
    std::vector<InboxEntry> out;
    while (st.step()) out.push_back(read_entry(st));
    return out;
}

std::string select_entries(const std::string& where) {
    return std::string("SELECT ") + kEntryColumns + " FROM inbox " + where;
}

}  // namespace

const char* to_string(InboxState s) {
    switch (s) {
        case InboxState::pending: return "pending";
        case InboxState::done: return "done";
        case InboxState::quarantined: return "quarantined";
    }
    return "pending";
}

Inbox::Inbox(Database& db) : db_(db) {}

std::vector<std::int64_t> Inbox::add_imap_batch(const std::string& account,
                                                const std::string& mailbox,
                                                std::uint64_t uidvalidity,
                                                const std::vector<FetchedMessage>& batch) {
    std::vector<std::int64_t> ids;
    ids.reserve(batch.size());
    const std::int64_t now = db_.now();
    const std::string source = "imap:" + account + "/" + mailbox;
    std::uint64_t max_uid = 0;

    Transaction tx(db_);
    for (const auto& m : batch) {
        max_uid = std::max(max_uid, m.uid);
        const bool placeholder = !m.unfetchable.empty();
        auto ins = db_.prepare(
            "INSERT INTO inbox (source, account, mailbox, uidvalidity, uid, raw, size, sha256, "
            "received_at, state, error, outcome, acknowledged, processed_at) "
            "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
            "ON CONFLICT (account, mailbox, uidvalidity, uid) DO NOTHING");
        ins.bind_all(source, account, mailbox, uidvalidity, m.uid);
        ins.bind_blob(6, m.raw);
        ins.bind(7, static_cast<std::int64_t>(m.raw.size()));
        ins.bind(8, placeholder ? std::string() : sha256_hex(m.raw));
        ins.bind(9, now);
        ins.bind(10, placeholder ? "quarantined" : "pending");
        ins.bind(11, m.error);
        ins.bind(12, m.unfetchable);
        ins.bind(13, placeholder ? 1 : 0);
        if (placeholder)
            ins.bind(14, now);
        else
            ins.bind(14, nullptr);
        ins.run();
        std::int64_t id = 0;
        if (db_.changes() > 0) {
            id = db_.last_insert_id();
        } else {
            auto sel = db_.prepare(
                "SELECT id, outcome, size FROM inbox "
                "WHERE account=? AND mailbox=? AND uidvalidity=? AND uid=?");
            sel.bind_all(account, mailbox, uidvalidity, m.uid);
            sel.step();
            id = sel.int64(0);
            const bool was_placeholder =
                sel.int64(2) == 0 && is_unfetchable_outcome(sel.text(1));
            if (was_placeholder && !placeholder) {
                // A released placeholder, fetched at last: now an ordinary pending message.
                auto up = db_.prepare(
                    "UPDATE inbox SET raw=?, size=?, sha256=?, state='pending', error='', "
                    "outcome='', acknowledged=0, processed_at=NULL, received_at=? WHERE id=?");
                up.bind_blob(1, m.raw);
                up.bind(2, static_cast<std::int64_t>(m.raw.size()));
                up.bind(3, sha256_hex(m.raw));
                up.bind(4, now);
                up.bind(5, id);
                up.run();
            } else if (was_placeholder) {
                auto up = db_.prepare("UPDATE inbox SET error=?, outcome=? WHERE id=?");
                up.bind_all(m.error, m.unfetchable, id);
                up.run();
            }
        }
        ids.push_back(id);
        auto ff = db_.prepare(
            placeholder
                ? "INSERT INTO fetch_failures (account, mailbox, uidvalidity, uid, attempts, "
                  "last_error, given_up, first_at, last_at) VALUES (?1,?2,?3,?4,0,?5,1,?6,?6) "
                  "ON CONFLICT DO UPDATE SET given_up=1, last_error=excluded.last_error, "
                  "last_at=excluded.last_at"
                : "DELETE FROM fetch_failures WHERE account=?1 AND mailbox=?2 AND "
                  "uidvalidity=?3 AND uid=?4");
        ff.bind_all(account, mailbox, uidvalidity, m.uid);
        if (placeholder) {
            ff.bind(5, m.error);
            ff.bind(6, now);
        }
        ff.run();
    }
    // The cursor moves in the same transaction as the rows it covers: after a crash, either
    // both are there or neither is, so no UID is skipped and none is stored twice.
    auto cur = db_.prepare(
        "INSERT INTO mailbox_cursors (account, mailbox, uidvalidity, last_uid, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (account, mailbox) DO UPDATE SET "
        "  last_uid = CASE WHEN uidvalidity = excluded.uidvalidity "
        "                  THEN max(last_uid, excluded.last_uid) ELSE excluded.last_uid END, "
        "  uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at");
    cur.bind_all(account, mailbox, uidvalidity, max_uid, now);
    cur.run();
    tx.commit();
    return ids;
}

std::int64_t Inbox::add_raw(const std::string& source, std::string_view raw) {
    const std::string hash = sha256_hex(raw);
    Transaction tx(db_);
    {
        auto sel = db_.prepare("SELECT id FROM inbox WHERE sha256=? ORDER BY id LIMIT 1");
        sel.bind(1, hash);
        if (sel.step()) {
            std::int64_t id = sel.int64(0);
            return id;  // nothing written: the rollback is a no-op
        }
    }
    // Nothing to flag on a server for files and pipes: acknowledged from the start.
    auto ins = db_.prepare(
        "INSERT INTO inbox (source, raw, size, sha256, received_at, acknowledged) "
        "VALUES (?,?,?,?,?,1)");
    ins.bind(1, source);
    ins.bind_blob(2, raw);
    ins.bind(3, static_cast<std::int64_t>(raw.size()));
    ins.bind(4, hash);
    ins.bind(5, db_.now());
    ins.run();
    std::int64_t id = db_.last_insert_id();
    tx.commit();
    return id;
}

MailboxCursor Inbox::cursor(const std::string& account, const std::string& mailbox) {
    MailboxCursor c;
    c.account = account;
    c.mailbox = mailbox;
    auto st = db_.prepare(
        "SELECT uidvalidity, last_uid, updated_at FROM mailbox_cursors "
        "WHERE account=? AND mailbox=?");
    st.bind_all(account, mailbox);
    if (st.step()) {
        c.uidvalidity = static_cast<std::uint64_t>(st.int64(0));
        c.last_uid = static_cast<std::uint64_t>(st.int64(1));
        c.updated_at = st.int64(2);
    }
    return c;
}

void Inbox::reset_cursor(const std::string& account, const std::string& mailbox,
                         std::uint64_t new_uidvalidity, std::uint64_t last_uid) {
    Transaction tx(db_);
    auto st = db_.prepare(
        "INSERT INTO mailbox_cursors (account, mailbox, uidvalidity, last_uid, updated_at) "
        "VALUES (?,?,?,?,?) ON CONFLICT (account, mailbox) DO UPDATE SET "
        "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
        "updated_at = excluded.updated_at");
    st.bind_all(account, mailbox, new_uidvalidity, last_uid, db_.now());
    st.run();
    tx.commit();
}

std::vector<InboxEntry> Inbox::unacknowledged(const std::string& account,
                                              const std::string& mailbox) {
    auto st = db_.prepare(select_entries(
        "WHERE acknowledged = 0 AND account = ?1 AND mailbox = ?2 AND uidvalidity = "
        "(SELECT uidvalidity FROM mailbox_cursors WHERE account = ?1 AND mailbox = ?2) "
        "ORDER BY uid"));
    st.bind_all(account, mailbox);
    return read_entries(st);
}

void Inbox::mark_acknowledged(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return;
    Transaction tx(db_);
    for (auto id : ids) {
        auto st = db_.prepare("UPDATE inbox SET acknowledged = 1 WHERE id = ?");
        st.bind(1, id);
        st.run();
    }
    tx.commit();
}

std::vector<std::int64_t> Inbox::pending(int limit) {
    auto st = db_.prepare("SELECT id FROM inbox WHERE state = 'pending' ORDER BY id LIMIT ?");
    st.bind(1, limit);
    std::vector<std::int64_t> ids;
    while (st.step()) ids.push_back(st.int64(0));
    return ids;
}

std::vector<std::int64_t> Inbox::pending_after(std::int64_t after, int limit) {
    auto st = db_.prepare(
        "SELECT id FROM inbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?");
    st.bind_all(after, limit);
    std::vector<std::int64_t> ids;
    while (st.step()) ids.push_back(st.int64(0));
    return ids;
}

std::optional<InboxEntry> Inbox::get(std::int64_t id) {
    auto st = db_.prepare(select_entries("WHERE id = ?"));
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_entry(st);
}

std::string Inbox::raw(std::int64_t id) {
    auto st = db_.prepare("SELECT raw FROM inbox WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) throw Error(SQLITE_NOTFOUND, "inbox entry " + std::to_string(id) + " not found");
    return st.blob(0);
}

std::vector<InboxEntry> Inbox::quarantined() {
    auto st = db_.prepare(select_entries("WHERE state = 'quarantined' ORDER BY id"));
    return read_entries(st);
}

bool Inbox::release_spam(std::int64_t id) {
    auto st = db_.prepare(
        "UPDATE inbox SET state = 'pending', outcome = '', processed_at = NULL "
        "WHERE id = ? AND state = 'done' AND outcome = 'spam'");
    st.bind(1, id);
    st.run();
    return db_.changes() > 0;
}

bool Inbox::release(std::int64_t id) {
    Transaction tx(db_);
    auto e = get(id);
    if (!e || e->state != InboxState::quarantined) return false;
    bool changed = false;
    if (e->size == 0 && is_unfetchable_outcome(e->outcome) && e->uid && e->uidvalidity) {
        // No bytes to process: the poller fetches the UID again at its next cycle (and gives up
        // again after max_fetch_attempts if it still fails).
        auto st = db_.prepare(
            "UPDATE fetch_failures SET given_up = 0, attempts = 0 WHERE account=? AND "
            "mailbox=? AND uidvalidity=? AND uid=? AND given_up = 1");
        st.bind_all(e->account, e->mailbox, *e->uidvalidity, *e->uid);
        st.run();
        changed = db_.changes() > 0;
        if (changed) {
            auto up = db_.prepare("UPDATE inbox SET error = ? WHERE id = ?");
            up.bind_all("released: to be fetched again at the next poll (" + e->error + ")", id);
            up.run();
        }
    } else {
        auto st = db_.prepare(
            "UPDATE inbox SET state = 'pending', error = '' WHERE id = ? AND state = 'quarantined'");
        st.bind(1, id);
        st.run();
        changed = db_.changes() > 0;
    }
    tx.commit();
    return changed;
}

std::int64_t Inbox::prune_raw(std::int64_t closed_before, int limit) {
    Transaction tx(db_);
    // tickets_status(status, updated_at) finds the closed tickets, inbox_ticket their mail.
    auto st = db_.prepare(
        "UPDATE inbox SET raw = X'' WHERE id IN ("
        "  SELECT i.id FROM tickets t JOIN inbox i ON i.ticket = t.id "
        "  WHERE t.status = 'closed' AND t.closed_at IS NOT NULL AND t.closed_at < ? "
        "    AND i.state = 'done' AND length(i.raw) > 0 LIMIT ?)");
    st.bind_all(closed_before, limit);
    st.run();
    const std::int64_t n = db_.changes();
    tx.commit();
    return n;
}

std::vector<InboxEntry> Inbox::list(std::optional<InboxState> state, int limit) {
    auto st = db_.prepare(select_entries(state ? "WHERE state = ? ORDER BY id DESC LIMIT ?"
                                               : "ORDER BY id DESC LIMIT ?"));
    if (state)
        st.bind_all(to_string(*state), limit);
    else
        st.bind(1, limit);
    return read_entries(st);
}

int Inbox::record_fetch_failure(const std::string& account, const std::string& mailbox,
                                std::uint64_t uidvalidity, std::uint64_t uid,
                                std::string_view error) {
    Transaction tx(db_);
    int attempts = 0;
    {
        // Scoped: COMMIT needs the RETURNING statement finished (reset) first.
        auto st = db_.prepare(
            "INSERT INTO fetch_failures (account, mailbox, uidvalidity, uid, attempts, "
            "last_error, first_at, last_at) VALUES (?1,?2,?3,?4,1,?5,?6,?6) "
            "ON CONFLICT DO UPDATE SET attempts = attempts + 1, "
            "last_error = excluded.last_error, last_at = excluded.last_at RETURNING attempts");
        st.bind_all(account, mailbox, uidvalidity, uid, error, db_.now());
        st.step();
        attempts = static_cast<int>(st.int64(0));
    }
    tx.commit();
    return attempts;
}

std::vector<FetchFailure> Inbox::fetch_failures(const std::string& account,
                                                const std::string& mailbox,
                                                std::uint64_t uidvalidity) {
    auto st = db_.prepare(
        "SELECT uid, attempts, last_error, given_up FROM fetch_failures "
        "WHERE account=? AND mailbox=? AND uidvalidity=? ORDER BY uid");
    st.bind_all(account, mailbox, uidvalidity);
    std::vector<FetchFailure> out;
    while (st.step())
        out.push_back({static_cast<std::uint64_t>(st.int64(0)), static_cast<int>(st.int64(1)),
                       st.text(2), st.int64(3) != 0});
    return out;
}

std::vector<std::uint64_t> Inbox::released_uids(const std::string& account,
                                                 const std::string& mailbox,
                                                 std::uint64_t uidvalidity) {
    auto st = db_.prepare(
        "SELECT f.uid FROM fetch_failures f JOIN mailbox_cursors c "
        "ON c.account = f.account AND c.mailbox = f.mailbox AND c.uidvalidity = f.uidvalidity "
        "WHERE f.account=? AND f.mailbox=? AND f.uidvalidity=? AND f.given_up = 0 "
        "AND f.uid <= c.last_uid ORDER BY f.uid");
    st.bind_all(account, mailbox, uidvalidity);
    std::vector<std::uint64_t> out;
    while (st.step()) out.push_back(static_cast<std::uint64_t>(st.int64(0)));
    return out;
}

void Inbox::finish(std::int64_t id, std::string_view outcome, std::optional<std::int64_t> ticket) {
    auto st = db_.prepare(
        "UPDATE inbox SET state = 'done', error = '', outcome = ?, ticket = ?, processed_at = ?, "
        "attempts = attempts + 1 WHERE id = ?");
    st.bind_all(outcome, ticket, db_.now(), id);
    st.run();
}

void Inbox::quarantine(std::int64_t id, std::string_view error) {
    Transaction tx(db_);
    auto st = db_.prepare(
        "UPDATE inbox SET state = 'quarantined', error = ?, outcome = 'quarantined', "
        "processed_at = ?, attempts = attempts + 1 WHERE id = ? AND state <> 'done'");
    // A row another process finished meanwhile stays done: its ticket exists.
    st.bind_all(error, db_.now(), id);
    st.run();
    tx.commit();
}

std::vector<InboxEntry> Inbox::with_outcome(std::string_view outcome, int limit) {
    auto st = db_.prepare(select_entries("WHERE outcome = ? ORDER BY id DESC LIMIT ?"));
    st.bind_all(outcome, limit);
    return read_entries(st);
}

std::int64_t Inbox::count(InboxState state) {
    auto st = db_.prepare("SELECT count(*) FROM inbox WHERE state = ?");
    st.bind(1, to_string(state));
    st.step();
    return st.int64(0);
}

}  // namespace ticketd::store
