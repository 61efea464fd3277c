#pragma once
// The SLA clocks' rows (issue 6, migration 6): per ticket the policy, the facts as last seen and
// the next wake-up; per target its state; the facts' history; the alarms already carried out.
// Plain types: the clock logic is sla/ and tickets/sla.*; this is only the SQL. Writers run in
// the caller's transaction.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ticketd::store {

class Database;

/// A ticket's facts as the SLA saw them last (what picks its policy).
struct SlaFacts {
    std::string status = "open", priority = "normal", queue;
    std::vector<std::string> tags;
    bool operator==(const SlaFacts&) const = default;
};

struct SlaTicketRow {
    std::int64_t ticket = 0;
    std::string policy;
    std::int64_t policy_since = 0;
    SlaFacts facts;
    std::optional<std::int64_t> next_wakeup;
    std::int64_t updated_at = 0;
};

/// One recorded change: kind created (value: priority; queue, tags), status, priority, queue, tags.
struct SlaHistoryRow {
    std::int64_t at = 0;
    std::string kind, value, queue;
    std::vector<std::string> tags;
};

struct SlaClockRow {
    std::int64_t ticket = 0;
    std::string target, policy, state;
    std::int64_t goal = 0, started_at = 0;
    std::optional<std::int64_t> due_at, paused_since;
    std::int64_t paused_total = 0;
    std::optional<std::int64_t> satisfied_at, breached_at, stopped_at;
    std::int64_t elapsed = 0;
    int reminders_sent = 0;
    std::int64_t updated_at = 0;
};

/// A stored message as the clocks see it.
struct SlaMessageMark {
    std::int64_t at = 0;
    std::string direction, kind;
};

/// A ticket's row for the report.
struct SlaReportRow {
    std::int64_t ticket = 0;
    std::string policy, queue, target, state;
    std::int64_t elapsed = 0;
};

class SlaStore {
public:
    explicit SlaStore(Database& db);

    std::optional<SlaTicketRow> ticket(std::int64_t ticket);
    void put_ticket(const SlaTicketRow& row);  ///< insert or replace

    std::vector<SlaHistoryRow> history(std::int64_t ticket);
    void add_history(std::int64_t ticket, const SlaHistoryRow& row);

    std::vector<SlaClockRow> clocks(std::int64_t ticket);
    void replace_clocks(std::int64_t ticket, const std::vector<SlaClockRow>& rows);

    std::set<std::string> fired(std::int64_t ticket);
    /// Records an alarm as carried out; false when it already was (then do nothing more).
    bool mark_fired(std::int64_t ticket, const std::string& key, const std::string& kind, std::int64_t at);
    /// How many reminders of this target's current cycle were carried out (keys "target/start/...").
    int reminders_fired(std::int64_t ticket, const std::string& key_prefix);

    /// Messages of a ticket, oldest first.
    std::vector<SlaMessageMark> messages(std::int64_t ticket);

    /// The earliest wake-up over all tickets (the indexed MIN).
    std::optional<std::int64_t> earliest_wakeup();
    /// Tickets whose wake-up is at or before `now`, earliest first.
    std::vector<std::int64_t> due(std::int64_t now, int limit);

    /// For `ticketd status`: open or pending tickets with a running target past a reminder
    /// (one was sent) and none breached, and those with a breached target still running.
    struct Counts {
        std::int64_t at_risk = 0, breached = 0;
    };
    Counts counts(std::int64_t now);

    /// Every clock of tickets created at or after `since`, for the report.
    std::vector<SlaReportRow> report_rows(std::int64_t since);

private:
    Database& db_;
};

}  // namespace ticketd::store
