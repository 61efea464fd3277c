#pragma once
// The desk's health as the database knows it: what `ticketd status` prints. The daemon records
// each poll of each mailbox (mailbox_polls, migration 5), so the status command, run as another
// process, sees the last poll, the last success and the current outage without asking the daemon.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace ticketd::store {

/// After each poll cycle of `account` (the imap[].name): when, and whether it worked. `error`
/// must already be fit for a log (no secrets, bounded). One small UPSERT.
void record_poll(Database& db, const std::string& account, bool ok, std::int64_t at, const std::string& error);

struct MailboxStatus {
    std::string account;
    std::string mailbox;                        ///< from the cursor; "" before the first fetch
    std::optional<std::int64_t> last_poll_at;   ///< last cycle, successful or not
    std::optional<std::int64_t> last_ok_at;     ///< last successful cycle
    std::optional<std::int64_t> failing_since;  ///< first failure of the current outage
    std::int64_t failures = 0;                  ///< failed cycles in a row
    std::string last_error;                     ///< of the current outage; "" when healthy
    std::int64_t uidvalidity = 0, last_uid = 0;
    std::optional<std::int64_t> cursor_updated_at;
};

struct DeskStatus {
    int schema_version = 0;
    std::int64_t now = 0;
    std::vector<MailboxStatus> mailboxes;        ///< every account with a poll or a cursor, by name
    std::map<std::string, std::int64_t> inbox;   ///< state (pending, done, quarantined) -> count
    std::int64_t unacknowledged = 0;             ///< committed, not yet flagged/moved on the server
    std::optional<std::int64_t> oldest_pending_at;  ///< received_at of the oldest pending entry
    std::map<std::string, std::int64_t> tickets;    ///< status -> count (every status present, 0s too)
    /// The outbox's rows by state, when the outbox table exists (issue 5); nullopt before.
    std::optional<std::map<std::string, std::int64_t>> outbox;
};

/// Read-only: safe while the daemon runs (WAL readers never block the writer).
DeskStatus read_status(Database& db);

}  // namespace ticketd::store
