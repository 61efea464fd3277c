#pragma once
// The outbox: every mail ticketd sends, durable from the moment it is decided (DESIGN.md #5).
// Rows are written inside the caller's transaction (the message or change that caused them), with
// their final bytes and Message-ID, then sent by the daemon: sent, retried later (4xx, network),
// or failed (5xx, or still refused after smtp.give_up_after), which is recorded on the ticket.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ticketd::store {

class Database;

enum class OutboxState { queued, sent, failed };
const char* to_string(OutboxState s);
std::optional<OutboxState> parse_outbox_state(std::string_view s);

struct OutboxMail {
    std::int64_t id = 0;
    std::optional<std::int64_t> ticket;   ///< tickets.id
    std::optional<std::int64_t> message;  ///< messages.id of the copy shown on the ticket
    std::string kind;                     ///< "acknowledgement", "notification", "relay", ...
    std::string mail_from;                ///< envelope sender
    std::vector<std::string> recipients;  ///< envelope recipients
    std::string auto_to;                  ///< the address an automatic mail answers, "" otherwise
    std::string message_id;               ///< without angle brackets; the same on every attempt
    std::string raw;                      ///< the whole message (CRLF)
    OutboxState state = OutboxState::queued;
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::string last_error;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> sent_at;
};

/// Seconds to wait before attempt `attempts + 1` after `attempts` failed ones: 1 minute doubling
/// up to 1 hour, spread by +-20% (`jitter` in [0, 1)) so a desk's queue does not hit a
/// recovering server all at once.
std::int64_t retry_delay(int attempts, double jitter);
/// The longest retry_delay() can be. A queued row due later than now + this was scheduled under
/// a clock that has since been put back (NTP after a bad RTC): it is due now, not in a year.
inline constexpr std::int64_t kMaxRetryDelay = 3600 + 3600 / 5;

class Outbox {
public:
    explicit Outbox(Database& db);

    /// Queue a mail (inside the caller's transaction); due at once. Returns its id.
    /// `m.state`, `attempts`, `created_at` and `next_attempt_at` are set here.
    std::int64_t enqueue(const OutboxMail& m);

    /// Queued rows due at `now`, oldest first (without `raw` when `with_raw` is false); also rows
    /// scheduled further ahead than any backoff (kMaxRetryDelay): the clock went back.
    std::vector<OutboxMail> due(std::int64_t now, int limit = 100, bool with_raw = true);
    /// When the next queued row is due; nullopt when nothing is queued.
    std::optional<std::int64_t> next_due_at();

    /// `wait_for_disk` false: the commit goes to the WAL without an fsync (synchronous=NORMAL
    /// for this one statement, when the connection is FULL): it survives a crash of the
    /// process, not a power cut, until the next commit that waits (any other write does).
    void mark_sent(std::int64_t id, std::int64_t at, bool wait_for_disk = true);
    /// A temporary failure: attempts + 1, due again at `next_at`.
    void retry_later(std::int64_t id, const std::string& error, std::int64_t next_at);
    /// A permanent failure: the row is kept (state failed) and an `outbox.failed` event is
    /// recorded on its ticket.
    void mark_failed(std::int64_t id, const std::string& error, std::int64_t at);
    /// `ticketd outbox retry`: a failed or queued row is due now again. False when no such row
    /// or it was sent already.
    bool retry_now(std::int64_t id, std::int64_t now);

    std::optional<OutboxMail> get(std::int64_t id);
    /// Newest first; all states when `state` is empty. Without `raw`.
    std::vector<OutboxMail> list(std::optional<OutboxState> state = std::nullopt, int limit = 100);
    std::vector<OutboxMail> for_ticket(std::int64_t ticket);
    /// Automatic mails (any state) to `address` created at or after `since` and not after now:
    /// the hourly limit. Rows stamped in the future (the clock went back) do not count, or one
    /// clock jump would silence a sender's acknowledgements until the clock caught up.
    int automatic_to_since(std::string_view address, std::int64_t since);
    std::int64_t count(OutboxState state);

private:
    Database& db_;
};

}  // namespace ticketd::store
