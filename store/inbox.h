#pragma once
// The inbox: raw received messages, committed before anything else happens (DESIGN.md #1, #4).
// Both entry paths (IMAP poller, `ticketd ingest`) write here; the pipeline reads from here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ticketd::store {

class Database;

/// Where one IMAP mailbox stands: the server's UIDVALIDITY and the highest UID stored.
struct MailboxCursor {
    std::string account;
    std::string mailbox;
    std::uint64_t uidvalidity = 0;  ///< 0 = never polled
    std::uint64_t last_uid = 0;
    std::int64_t updated_at = 0;  ///< unix seconds of the last change (0 = never)
};

enum class InboxState { pending, done, quarantined };

struct InboxEntry {
    std::int64_t id = 0;
    std::string source;  ///< "imap:ACCOUNT/MAILBOX", "file:PATH" or "pipe"
    std::optional<std::uint64_t> uidvalidity, uid;
    InboxState state = InboxState::pending;
    std::string error;      ///< why it is quarantined
    int attempts = 0;
    bool acknowledged = false;  ///< IMAP: flagged/moved on the server after commit
    std::string sha256;     ///< of the raw bytes
    std::int64_t received_at = 0;  ///< unix seconds UTC
    // Filled by the pipeline once processed:
    std::string account, mailbox;   ///< IMAP only, "" otherwise
    std::optional<std::int64_t> processed_at;
    std::string outcome;            ///< "created", "appended", "duplicate", ...
    std::optional<std::int64_t> ticket;  ///< tickets.id it went to
    std::uint64_t size = 0;
    /// The raw bytes were dropped by retention (size and sha256 still say what they were).
    bool pruned = false;
};

const char* to_string(InboxState s);

struct FetchedMessage {
    FetchedMessage() = default;
    FetchedMessage(std::uint64_t u, std::string bytes) : uid(u), raw(std::move(bytes)) {}
    /// A placeholder for a message given up on (see `unfetchable`).
    static FetchedMessage given_up(std::uint64_t u, std::string outcome, std::string why) {
        FetchedMessage m(u, {});
        m.unfetchable = std::move(outcome);
        m.error = std::move(why);
        return m;
    }

    std::uint64_t uid = 0;
    std::string raw;
    /// Not fetched and given up on ("fetch_failed", "too_large"): stored as a quarantined
    /// placeholder without raw bytes, left on the server, releasable (fetched again).
    std::string unfetchable;
    std::string error;  ///< why, for an unfetchable one
};

/// One IMAP UID whose fetch keeps failing.
struct FetchFailure {
    std::uint64_t uid = 0;
    int attempts = 0;
    std::string last_error;
    bool given_up = false;
};

class Inbox {
public:
    explicit Inbox(Database& db);

    /// Store one IMAP batch in ONE durable transaction and advance the mailbox cursor to the
    /// highest UID in it. A (account, mailbox, uidvalidity, uid) already stored is not stored
    /// again; its existing id is returned. Returns ids in the order of `batch`.
    /// Unfetchable entries become quarantined placeholders (acknowledged: nothing to do on the
    /// server); a fetched message whose UID has such a placeholder fills it in and makes it
    /// pending again. A stored UID's fetch failures are forgotten.
    std::vector<std::int64_t> add_imap_batch(const std::string& account, const std::string& mailbox,
                                             std::uint64_t uidvalidity,
                                             const std::vector<FetchedMessage>& batch);

    /// Store one message from a file or pipe. Identical bytes already in the inbox return the
    /// existing id (the pipeline's Message-ID + hash dedupe then makes it a no-op).
    std::int64_t add_raw(const std::string& source, std::string_view raw);

    MailboxCursor cursor(const std::string& account, const std::string& mailbox);
    /// Record a UIDVALIDITY change (or a first poll): the cursor restarts at `last_uid` (0 =
    /// everything in the mailbox is new) for the new validity.
    void reset_cursor(const std::string& account, const std::string& mailbox,
                      std::uint64_t new_uidvalidity, std::uint64_t last_uid = 0);

    /// Stored but not yet flagged/moved on the server (crash between commit and acknowledge).
    /// Only rows of the cursor's current UIDVALIDITY: older UIDs no longer name anything there.
    std::vector<InboxEntry> unacknowledged(const std::string& account, const std::string& mailbox);
    void mark_acknowledged(const std::vector<std::int64_t>& ids);

    std::vector<std::int64_t> pending(int limit = 1000);
    /// Pending ids above `after`, oldest first.
    std::vector<std::int64_t> pending_after(std::int64_t after, int limit = 1000);
    std::optional<InboxEntry> get(std::int64_t id);
    std::string raw(std::int64_t id);
    std::vector<InboxEntry> quarantined();
    /// Put a quarantined message back to pending (after a fix). A placeholder for a message that
    /// could not be fetched stays quarantined until the poller's next cycle fetches it again.
    bool release(std::int64_t id);
    /// Put an entry the rules kept as spam (done, outcome "spam") back to pending; false when it
    /// is not one. The pipeline's release_spam() does this and processes it in one transaction.
    bool release_spam(std::int64_t id);
    /// Entries by state ("" = any), newest first.
    std::vector<InboxEntry> list(std::optional<InboxState> state, int limit = 100);

    /// Retention: drop the raw bytes of processed mail whose ticket was closed before
    /// `closed_before` (unix seconds), at most `limit` rows; returns how many. The ticket, its
    /// messages and attachments stay; the rows keep size and sha256 (dedupe still knows them).
    std::int64_t prune_raw(std::int64_t closed_before, int limit = 1000);

    // --- IMAP fetch failures (poison messages), see schema migration 2
    /// Count one more failed fetch of `uid`; returns the attempts so far (own transaction).
    int record_fetch_failure(const std::string& account, const std::string& mailbox,
                             std::uint64_t uidvalidity, std::uint64_t uid, std::string_view error);
    std::vector<FetchFailure> fetch_failures(const std::string& account, const std::string& mailbox,
                                             std::uint64_t uidvalidity);
    /// UIDs at or below the cursor whose placeholder was released: to be fetched again.
    std::vector<std::uint64_t> released_uids(const std::string& account, const std::string& mailbox,
                                             std::uint64_t uidvalidity);

    // --- used by the pipeline (tickets::Pipeline), inside its transaction
    /// Processed: state done, with the outcome and the ticket (tickets.id) it went to.
    void finish(std::int64_t id, std::string_view outcome, std::optional<std::int64_t> ticket);
    /// Could not be processed: kept raw, state quarantined with the error (DESIGN.md #4).
    void quarantine(std::int64_t id, std::string_view error);
    /// Done rows with this outcome, newest first (e.g. "unmatched_automatic").
    std::vector<InboxEntry> with_outcome(std::string_view outcome, int limit = 1000);
    std::int64_t count(InboxState state);

private:
    Database& db_;
};

}  // namespace ticketd::store
