#pragma once
// Scheduled report digests (issue 9, `reports:` in the config): each entry's report of the last
// complete day, ISO week or month, mailed through the outbox exactly once per period. The row in
// report_digests and the outbox row are written in one transaction, so a crash or restart never
// sends a period twice nor skips the one that is due. The daemon calls run_due_digests from its
// timer (every pending_retry, 30 s) and `run --once` calls it once.

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "reports/report.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::daemon {

/// The period a digest mails at `now`: the last complete one, and the buckets of its report
/// (daily: one day; weekly: Monday to Monday by day; monthly: by week).
struct DigestPeriod {
    std::int64_t since = 0, until = 0;
    reports::Bucket by = reports::Bucket::day;
};
DigestPeriod digest_period(const std::string& every, std::int64_t now, const date::time_zone* zone);

/// Queues every digest whose last complete period has not been mailed yet. Returns how many
/// were queued. Throws store::Error (a temporary one leaves everything for the next call).
int queue_due_digests(store::Database& db, const config::Config& cfg, std::int64_t now);

/// The same for the daemon: logs what it queued and any failure, never throws.
int run_due_digests(store::Database& db, const std::shared_ptr<const config::Config>& cfg);

}  // namespace ticketd::daemon
