// A year's weekly report (issue 9) on a desk of 1,000,000 tickets: store::seed's tickets (70%
// closed an hour after they opened, 20% open, 10% pending, one minute apart: about two years),
// plus an agent answer on 80% of them, a `ticket.status` event for each close, a reopen and a
// second resolution on 1 in 50, one of twenty tags each, and every ticket older than 30 days
// closed (a realistic backlog). Timed with migration 8's indexes and
// without them (dropped), each twice, the second (warm cache) reported; wall and CPU seconds.
//
//   bench_report [--tickets 1000000] [--db /tmp/bench_report.db] [--keep]
//
// The extra history is written with set-based SQL here (a benchmark's own fixture, not an API).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>

#include "reports/report.h"
#include "store/database.h"
#include "store/report_rows.h"
#include "store/seed.h"

namespace {

using namespace ticketd;

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
using Clock = std::chrono::steady_clock;

void add_history(store::Database& db, std::int64_t n) {
    store::Transaction tx(db);
    const std::string seq = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1) ";
    auto run = [&](const std::string& sql) {
        auto st = db.prepare(seq + sql);
        st.bind(1, n);
        st.run();
    };
    // Agent answers: 80% of tickets, 30 minutes to 3.5 hours after they opened.
    run("INSERT INTO messages (ticket, direction, kind, message_id, created_at) "
        "SELECT i, 'out', 'agent', 'agent-' || i || '@bench.example', "
        "(SELECT created_at FROM tickets WHERE id = i) + (i % 7 + 1) * 1800 FROM seq WHERE i % 5 <> 0");
    run("INSERT INTO events (ticket, at, kind, detail) "
        "SELECT i, (SELECT closed_at FROM tickets WHERE id = i), 'ticket.status', 'open -> closed: bench' "
        "FROM seq WHERE i % 10 < 7");
    // 1 in 50 closed tickets was reopened a day later and resolved again two days later.
    run("INSERT INTO events (ticket, at, kind, detail) "
        "SELECT i, (SELECT closed_at FROM tickets WHERE id = i) + 86400, 'ticket.reopened', "
        "'closed -> open: reply within the reopen window' FROM seq WHERE i % 10 < 7 AND i % 50 = 1");
    run("INSERT INTO events (ticket, at, kind, detail) "
        "SELECT i, (SELECT closed_at FROM tickets WHERE id = i) + 2 * 86400, 'ticket.status', "
        "'open -> resolved: bench' FROM seq WHERE i % 10 < 7 AND i % 50 = 1");
    run("UPDATE tickets SET status = 'resolved', closed_at = closed_at + 2 * 86400 "
        "WHERE id IN (SELECT i FROM seq WHERE i % 10 < 7 AND i % 50 = 1)");
    run("INSERT INTO ticket_tags (ticket, tag) SELECT i, 'tag' || (i % 20) FROM seq");
    // A desk that keeps up: what store::seed leaves open or pending is closed a day later unless
    // it opened in the last 30 days, so the backlog is a few thousand tickets, not 300,000.
    {
        auto st = db.prepare(
            "INSERT INTO events (ticket, at, kind, detail) SELECT id, created_at + 86400, 'ticket.status', "
            "status || ' -> closed: bench' FROM tickets WHERE status IN ('open','pending') AND created_at < ?1");
        st.bind(1, store::SeedOptions{}.now - 30 * 86400);
        st.run();
    }
    {
        auto st = db.prepare(
            "UPDATE tickets SET status = 'closed', closed_at = created_at + 86400 "
            "WHERE status IN ('open','pending') AND created_at < ?1");
        st.bind(1, store::SeedOptions{}.now - 30 * 86400);
        st.run();
    }
    tx.commit();
}

struct Timing {
    double wall = 0, cpu = 0, compute_cpu = 0;
    std::size_t tickets = 0;
    std::int64_t opened = 0, resolved = 0;
};

Timing weekly(store::Database& db, std::int64_t now, int weeks) {
    reports::Options o;
    o.by = reports::Bucket::week;
    // ISO weeks ending on the Monday before `now` (1970-01-05 was a Monday).
    const std::int64_t week = 7 * 86400, monday = 4 * 86400;
    o.until = now - (now - monday) % week;
    o.since = o.until - weeks * week;
    const auto w0 = Clock::now();
    const double c0 = cpu_seconds();
    store::ReportQuery q;
    q.since = o.since;
    q.previous_since = reports::previous_since(o);
    q.until = o.until;
    const auto rows = store::load_report_rows(db, q);
    const double c1 = cpu_seconds();
    const auto r = reports::compute(rows, o);
    Timing t;
    t.cpu = cpu_seconds() - c0;
    t.compute_cpu = cpu_seconds() - c1;
    t.wall = std::chrono::duration<double>(Clock::now() - w0).count();
    t.tickets = rows.tickets.size();
    t.opened = r.total.opened;
    t.resolved = r.total.resolved;
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    std::int64_t tickets = 1'000'000;
    std::filesystem::path path = std::filesystem::temp_directory_path() / "bench_report.db";
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--tickets" && i + 1 < argc) tickets = std::atoll(argv[++i]);
        else if (a == "--db" && i + 1 < argc) path = argv[++i];
        else if (a == "--keep") keep = true;
        else {
            std::cerr << "usage: bench_report [--tickets N] [--db PATH] [--keep]\n";
            return 2;
        }
    }
    store::SeedOptions seed;
    seed.tickets = tickets;
    const bool fresh = !std::filesystem::exists(path);
    store::OpenOptions opts;
    opts.durable = false;  // seeding speed; the report only reads
    store::Database db(path.string(), opts);
    if (fresh) {
        const auto s0 = Clock::now();
        store::seed(db, seed);
        add_history(db, tickets);
        db.exec("ANALYZE");
        std::printf("seeded %lld tickets in %.1f s (%s)\n", static_cast<long long>(tickets),
                    std::chrono::duration<double>(Clock::now() - s0).count(), path.c_str());
    }
    auto report = [&](const char* label) {
        weekly(db, seed.now, 4);
        const auto month = weekly(db, seed.now, 4);
        std::printf("%-28s 4 weeks: wall %.2f s, cpu %.2f s (%zu tickets read)\n", label, month.wall, month.cpu,
                    month.tickets);
        weekly(db, seed.now, 52);  // cold run: fills the page cache
        const auto t = weekly(db, seed.now, 52);
        std::printf("%-28s 52 weeks: wall %6.2f s  cpu %6.2f s (compute %.2f s)  (%zu tickets read, %lld opened, %lld "
                    "resolutions)\n",
                    label, t.wall, t.cpu, t.compute_cpu, t.tickets, static_cast<long long>(t.opened),
                    static_cast<long long>(t.resolved));
        return t;
    };
    const auto with = report("with migration 8 indexes");
    db.exec("DROP INDEX tickets_closed_created; DROP INDEX tickets_created; DROP INDEX events_status_changes; "
            "DROP INDEX messages_ticket_kind;");
    const auto without = report("without them");
    db.exec("CREATE INDEX tickets_closed_created ON tickets(closed_at, created_at);"
            "CREATE INDEX tickets_created ON tickets(created_at);"
            "CREATE INDEX events_status_changes ON events(at) "
            "WHERE kind IN ('ticket.status','ticket.reopened','agent.command');"
            "CREATE INDEX messages_ticket_kind ON messages(ticket, kind, created_at);");
    std::printf("ratio without/with: %.1fx wall, %.1fx cpu\n", without.wall / with.wall, without.cpu / with.cpu);
    if (!keep && fresh) {
        std::filesystem::remove(path);
        std::filesystem::remove(path.string() + "-wal");
        std::filesystem::remove(path.string() + "-shm");
    }
    return 0;
}
