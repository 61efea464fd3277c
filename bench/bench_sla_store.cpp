// The SLA's stored path (issue 6): N open tickets in SQLite under config/sla.example.yaml, their
// clocks computed and stored by tickets::recompute_sla (what the pipeline hook does), the indexed
// wake-up query the daemon's timer arms from, and one simulated day of that timer: wake at
// MIN(next_wakeup), fire_due_sla (outbox mail composed and queued, keys recorded, durable
// commits), re-arm. Prints CPU and wall time; `bench_sla_store [TICKETS]` (default 20,000).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>
#include <unistd.h>
#include <algorithm>

#include "config/sla_loader.h"
#include "config/templates.h"
#include "store/database.h"
#include "store/tickets.h"
#include "tickets/sla.h"

using namespace ticketd;

namespace {

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
    auto cfg = std::make_shared<config::Config>();
    cfg->desk.name = "Bench";
    cfg->desk.addresses = {"support@example.com"};
    cfg->desk.hostname = "example.com";
    cfg->smtp.emplace();
    cfg->smtp->from = cfg->smtp->reply_to = "support@example.com";
    cfg->agents = {{"support-lead@example.com", "Lead", {"support"}}, {"ann@example.com", "Ann", {"support"}}};
    std::vector<config::ConfigError> errors;
    cfg->templates = config::load_templates(TICKETD_SOURCE_DIR "/config/templates", errors);
    config::load_sla_file(TICKETD_SOURCE_DIR "/config/sla.example.yaml", cfg->sla, errors);
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!errors.empty()) return 1;

    const auto dir = std::filesystem::temp_directory_path() / ("bench_sla_store." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::int64_t now = 1'774'861'200;  // Mon 2026-03-30 09:00 UTC, as bench_sla
    store::Database db((dir / "desk.db").string());
    db.set_clock([&] { return now; });

    // Open tickets created over the last 30 days: a tenth urgent, a tenth high, half answered.
    std::mt19937 rng(6);
    std::vector<std::int64_t> ids;
    {
        store::Transaction tx(db);
        store::Tickets tickets(db);
        store::Messages messages(db);
        for (int i = 0; i < n; ++i) {
            store::NewTicket t;
            t.token = "abcdef0123";
            t.subject = "Ticket " + std::to_string(i);
            t.requester_address = "req" + std::to_string(i) + "@example.org";
            t.created_at = now - static_cast<std::int64_t>(rng() % (30 * 86400));
            t.priority = i % 10 == 0 ? store::Priority::urgent : i % 10 == 1 ? store::Priority::high : store::Priority::normal;
            t.queue = "support";
            const auto id = tickets.create(t).id;
            if (i % 3 == 0) tickets.set_assignee(id, "ann@example.com", t.created_at);
            if (i % 2) {
                store::MessageRecord m;
                m.ticket = id;
                m.kind = store::MessageKind::agent;
                m.created_at = std::min(now, t.created_at + static_cast<std::int64_t>(rng() % 36000));
                messages.add(m);
            }
            ids.push_back(id);
        }
        tx.commit();
    }

    double c0 = cpu_seconds(), w0 = wall_seconds();
    for (std::size_t i = 0; i < ids.size(); i += 1000) {
        store::Transaction tx(db);
        for (std::size_t j = i; j < std::min(ids.size(), i + 1000); ++j) tickets::recompute_sla(db, *cfg, ids[j], now);
        tx.commit();
    }
    double cpu = cpu_seconds() - c0, wall = wall_seconds() - w0;
    std::printf("recompute_sla + store, %d tickets: %.2f s CPU, %.2f s wall (%.0f us CPU/ticket)\n", n, cpu, wall,
                cpu * 1e6 / n);

    c0 = cpu_seconds();
    std::optional<std::int64_t> wake;
    for (int i = 0; i < 10000; ++i) wake = tickets::next_sla_wakeup(db);
    std::printf("next_sla_wakeup (MIN over the partial index): %.2f us CPU per query\n",
                (cpu_seconds() - c0) * 1e6 / 10000);

    // The overdue backlog (30-day-old tickets), then one day of the timer.
    auto fire_all = [&](std::int64_t at, tickets::SlaFireStats& total) {
        for (;;) {
            auto s = tickets::fire_due_sla(db, *cfg, at);
            total.tickets += s.tickets, total.reminders += s.reminders, total.escalations += s.escalations,
                total.breaches += s.breaches;
            if (!s.more) break;
        }
    };
    tickets::SlaFireStats backlog;
    c0 = cpu_seconds(), w0 = wall_seconds();
    fire_all(now, backlog);
    std::printf("overdue backlog at start: %d tickets, %d reminders, %d escalations, %d breaches: %.2f s CPU, "
                "%.2f s wall (one commit per 200 tickets)\n",
                backlog.tickets, backlog.reminders, backlog.escalations, backlog.breaches, cpu_seconds() - c0,
                wall_seconds() - w0);

    tickets::SlaFireStats day;
    std::size_t wakeups = 0, empty = 0;
    const std::int64_t end = now + 86400;
    c0 = cpu_seconds(), w0 = wall_seconds();
    while ((wake = tickets::next_sla_wakeup(db)) && *wake < end) {
        now = std::max(now, *wake);
        ++wakeups;
        tickets::SlaFireStats s;
        fire_all(now, s);
        if (!s.reminders && !s.escalations) ++empty;
        day.tickets += s.tickets, day.reminders += s.reminders, day.escalations += s.escalations,
            day.breaches += s.breaches;
    }
    std::printf("one simulated day: %zu timer wake-ups (%zu with no mail: a target turning breached), %d ticket "
                "recomputes, %d reminders, %d escalations, %d breaches: %.2f s CPU, %.2f s wall\n",
                wakeups, empty, day.tickets, day.reminders, day.escalations, day.breaches, cpu_seconds() - c0,
                wall_seconds() - w0);
    std::filesystem::remove_all(dir);
    return 0;
}
