#pragma once
// The inbox: raw received messages, committed before anything else happens (DESIGN.md #1, #4).
// Both entry paths (IMAP poller, `ticketd ingest`) write here; the pipeline reads from here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::store {

class Database;

/// Where one IMAP mailbox stands: the server's UIDVALIDITY and the highest UID stored.
struct MailboxCursor {
    std::string account;
    std::string mailbox;
    std::uint64_t uidvalidity = 0;  ///< 0 = never polled
    std::uint64_t last_uid = 0;
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
};

const char* to_string(InboxState s);

struct FetchedMessage {
    std::uint64_t uid = 0;
    std::string raw;
};

class Inbox {
public:
    explicit Inbox(Database& db);

    /// Store one IMAP batch in ONE durable transaction and advance the mailbox cursor to the
    /// highest UID in it. A (account, mailbox, uidvalidity, uid) already stored is not stored
    /// again; its existing id is returned. Returns ids in the order of `batch`.
    std::vector<std::int64_t> add_imap_batch(const std::string& account, const std::string& mailbox,
                                             std::uint64_t uidvalidity,
                                             const std::vector<FetchedMessage>& batch);

    /// Store one message from a file or pipe. Identical bytes already in the inbox return the
    /// existing id (the pipeline's Message-ID + hash dedupe then makes it a no-op).
    std::int64_t add_raw(const std::string& source, std::string_view raw);

    MailboxCursor cursor(const std::string& account, const std::string& mailbox);
    /// Record a UIDVALIDITY change: the cursor restarts at 0 for the new validity.
    void reset_cursor(const std::string& account, const std::string& mailbox,
                      std::uint64_t new_uidvalidity);

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
    /// Put a quarantined message back to pending (after a fix).
    bool release(std::int64_t id);

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
