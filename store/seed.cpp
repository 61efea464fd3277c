#include "store/seed.h"

#include "store/database.h"

namespace ticketd::store {

void seed(Database& db, const SeedOptions& o) {
    {
        auto st = db.prepare("SELECT count(*) FROM tickets");
        st.step();
        if (st.int64(0) != 0) throw Error(SQLITE_MISUSE, "seed: the database already has tickets");
    }
    Transaction tx(db);
    // Ticket i gets id i and number 1000 + i, so the other tables can refer to it directly.
    const std::string seq =
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1) ";
    {
        auto st = db.prepare(
            seq +
            "INSERT INTO tickets (id, number, token, subject, requester_address, requester_name, "
            "status, priority, created_at, updated_at, closed_at) "
            "SELECT i, 1000 + i, lower(hex(randomblob(5))), 'Seeded ticket ' || i, "
            "'user' || (i % 50000) || '@c' || (i % 1000) || '.example', 'User ' || (i % 50000), "
            "CASE WHEN i % 10 < 7 THEN 'closed' WHEN i % 10 < 9 THEN 'open' ELSE 'pending' END, "
            "'normal', ?2 - (?1 - i) * 60, ?2 - (?1 - i) * 60 + 3600, "
            "CASE WHEN i % 10 < 7 THEN ?2 - (?1 - i) * 60 + 3600 END FROM seq");
        st.bind_all(o.tickets, o.now);
        st.run();
    }
    {
        auto st = db.prepare(
            seq +
            "INSERT INTO participants (ticket, address, name, role, added_at) "
            "SELECT i, 'user' || (i % 50000) || '@c' || (i % 1000) || '.example', '', "
            "'requester', ?2 FROM seq WHERE 1 ON CONFLICT DO NOTHING");
        st.bind_all(o.tickets, o.now);
        st.run();
    }
    {
        auto st = db.prepare(
            seq +
            "INSERT INTO inbox (id, source, raw, size, sha256, state, acknowledged, received_at, "
            "processed_at, outcome, ticket) "
            "SELECT i, 'seed', 'seeded', 6, lower(hex(randomblob(32))), 'done', 1, ?2, ?2, "
            "'created', i FROM seq");
        st.bind_all(o.tickets, o.now);
        st.run();
    }
    {
        auto st = db.prepare(
            seq +
            "INSERT INTO messages (id, ticket, inbox_id, direction, kind, message_id, "
            "from_address, subject, body, new_text, content_hash, thread_signal, created_at) "
            "SELECT i, i, i, 'in', 'requester', 'seed-' || (1000 + i) || '@' || ?3, "
            "'user' || (i % 50000) || '@c' || (i % 1000) || '.example', "
            "'Seeded ticket ' || i, "
            "'Hello, this is a seeded message body of moderate length, standing in for the "
            "few hundred bytes a typical support mail has after quoting is removed. ' || i, "
            "'Hello ' || i, lower(hex(randomblob(32))), 'new', ?2 FROM seq");
        st.bind_all(o.tickets, o.now, o.id_domain);
        st.run();
    }
    {
        auto st = db.prepare(
            seq +
            "INSERT INTO message_ids (message_id, ticket, message, direction) "
            "SELECT 'seed-' || (1000 + i) || '@' || ?2, i, i, 'in' FROM seq");
        st.bind_all(o.tickets, o.id_domain);
        st.run();
    }
    {
        auto st = db.prepare(
            seq +
            "INSERT INTO events (ticket, message, inbox_id, at, kind, detail) "
            "SELECT i, i, i, ?2, 'ticket.created', 'seeded' FROM seq");
        st.bind_all(o.tickets, o.now);
        st.run();
    }
    tx.commit();
}

}  // namespace ticketd::store
