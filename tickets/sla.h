#pragma once
// The SLA clocks wired into the desk (issue 6): the pure core (sla/) over the store (store/sla.h).
//
// - recompute_sla(db, cfg, ticket, now): records what changed on the ticket since the clocks last
//   saw it (status, priority, queue, tags), recomputes every target from the whole history and
//   stores the clocks and the ticket's next wake-up. Anything that changes a ticket (the pipeline
//   hook, agent commands, the CLI) calls it in the same transaction as the change.
// - sla_hook: the pipeline hook (a message recorded: an agent's answer satisfies a response
//   target, a requester's message starts next_response).
// - fire_due_sla(db, cfg, now): what the daemon's timer runs. For each ticket whose wake-up has
//   come, each alarm due is recorded as fired in the same transaction as its outbox row (or its
//   escalation), so it happens exactly once, across crashes too; a resolved ticket has none.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "sla/clocks.h"
#include "tickets/pipeline.h"

namespace ticketd::store {
class Database;
struct SlaReportRow;
}

namespace ticketd::tickets {

/// What one recompute found new (for metrics, counted by the caller after its commit).
struct SlaChange {
    sla::ClockState state;
    int newly_breached = 0;  ///< targets that turned breached in this recompute
    bool started = false;    ///< the ticket had no clocks before
};

/// Brings the ticket's clocks up to date at `now` (Unix seconds) and stores them. nullopt when
/// there are no SLA policies or no such ticket. Runs in the caller's transaction.
std::optional<SlaChange> recompute_sla(store::Database& db, const config::Config& cfg, std::int64_t ticket,
                                       std::int64_t now);

/// The pipeline hook: recompute after every recorded message. Does nothing without `sla:`.
void sla_hook(store::Database& db, const Ingested& ing);

struct SlaFireStats {
    int tickets = 0;      ///< tickets whose wake-up had come
    int reminders = 0;    ///< reminder mails queued (or recorded as not sendable)
    int escalations = 0;  ///< escalations carried out
    int breaches = 0;     ///< targets that turned breached
    bool more = false;    ///< `limit` tickets were handled: call again
};

/// Carries out every alarm due at `now` for up to `limit` tickets: one transaction for them
/// (opened here; a savepoint inside the caller's), each ticket a savepoint in it.
SlaFireStats fire_due_sla(store::Database& db, const config::Config& cfg, std::int64_t now, int limit = 200);

/// The earliest wake-up over all tickets (Unix seconds), the one moment the timer is armed for.
std::optional<std::int64_t> next_sla_wakeup(store::Database& db);

/// `tickets show --json`: {policy, policy_since, targets: [{target, state, goal_seconds,
/// started_at, due_at, due_utc, due_local, elapsed_seconds, paused_since, paused_seconds,
/// satisfied_at, breached_at, stopped_at, reminders_sent}]}; null when the ticket has no clocks.
/// A running target whose due time has passed shows as breached (the daemon may be down).
nlohmann::json sla_json(store::Database& db, const config::Config& cfg, std::int64_t ticket, std::int64_t now);
/// The same for humans, a line per target; "" when the ticket has no clocks.
std::string render_sla(store::Database& db, const config::Config& cfg, std::int64_t ticket, std::int64_t now);

/// `ticketd sla report`: one row per policy and queue.
struct SlaReportGroup {
    std::string policy, queue;
    std::int64_t tickets = 0, met = 0, breached = 0;
    std::optional<double> conformance;  ///< met / (met + breached) in %, nullopt with neither
    std::optional<std::int64_t> median_first_response, median_resolution;  ///< business seconds
};
/// Groups clock rows (store::SlaStore::report_rows) by policy and queue: targets met and
/// breached, and medians of the business time first response and resolution took (met and
/// breached targets; running ones have no final figure yet).
std::vector<SlaReportGroup> build_sla_report(const std::vector<store::SlaReportRow>& rows);
nlohmann::json sla_report_json(const std::vector<SlaReportGroup>& groups);
std::string render_sla_report(const std::vector<SlaReportGroup>& groups);

/// "2026-12-07 08:30 UTC" and, in the calendar's zone, "2026-12-07 09:30 CET".
std::string format_utc(std::int64_t t);
std::string format_local(const sla::Calendar& cal, std::int64_t t);
/// "1h 30m", "45m", "2d 3h" (business time).
std::string format_span(std::int64_t seconds);

}  // namespace ticketd::tickets
