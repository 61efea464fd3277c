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
};

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
    std::vector<InboxEntry> unacknowledged(const std::string& account, const std::string& mailbox);
    void mark_acknowledged(const std::vector<std::int64_t>& ids);

    std::vector<std::int64_t> pending(int limit = 1000);
    std::optional<InboxEntry> get(std::int64_t id);
    std::string raw(std::int64_t id);
    std::vector<InboxEntry> quarantined();
    /// Put a quarantined message back to pending (after a fix).
    bool release(std::int64_t id);

private:
    Database& db_;
};

}  // namespace ticketd::store
