#pragma once
// The IMAP poller: empties each configured mailbox into the inbox table, incrementally and
// exactly once (DESIGN.md invariants 1 and 2).
//
// One cycle per mailbox:
//   EXAMINE (UIDVALIDITY) -> a changed UIDVALIDITY resets the cursor (everything is fetched again
//   under the new validity; the pipeline's Message-ID + content dedupe makes nothing twice)
//   -> acknowledge rows committed earlier but not yet acknowledged (crash between the two)
//   -> UID SEARCH UID last+1:* (filtered: "*" always names the highest UID, even below last+1)
//   -> per batch of batch_size: sizes in one round trip, then the bodies in UID ranges of up to
//      kRangeBytes over `connections` parallel connections; what a range did not deliver whole
//      (gone, too big for a range, a failure) is fetched alone, one message per request
//      -> Inbox::add_imap_batch (one durable transaction, cursor advanced with the rows)
//      -> THEN acknowledge on the server (\Seen, UID MOVE, or \Deleted + UID EXPUNGE)
//      -> Inbox::mark_acknowledged -> on_stored(ids).
//
// Poison messages: a fetch that fails (an error answer, a connection dropped on that message)
// ends the batch and the cycle, and counts against that UID (fetch_failures). The cursor cannot
// pass a UID that is not stored, so after imap[].max_fetch_attempts failures in a row the UID is
// given up: a quarantined placeholder row without bytes is committed in its place (the message
// stays on the server, neither moved nor deleted) and the mail behind it flows again. Releasing the placeholder
// (`ticketd inbox release ID`) makes the next cycle fetch it again. A message over
// max_fetch_bytes is given up at once. Failures before any fetch (login, EXAMINE, SEARCH) blame
// no message.
//
// About \Seen: ranges use BODY.PEEK[], but a message fetched alone goes through libcurl's
// `UID FETCH n BODY[]` (it has no BODY.PEEK), so the server sets \Seen on that one when the bytes
// leave it, before our commit. We accept that: what is new is decided
// by the UID cursor, never by flags, so a crash after fetch and before commit refetches the
// message next cycle. The only visible effect is that such a message shows as read in a mail
// client although it is not in the inbox table yet; moved and removed messages never are
// moved/removed before commit. Commit, then acknowledge (DESIGN.md #1) holds for MOVE/EXPUNGE and
// for the explicit \Seen store that follows every commit.
//
// A mailbox that fails (wrong password, server down, TLS error) retries with exponential backoff
// and jitter; mailboxes are independent, so one broken account never stalls the others.
// Everything runs on the one io_context thread: libcurl through CurlMulti, SQLite inline
// (a batch commit is one fsync, a few ms).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/curl_multi.h"  // first: includes <utility> before Asio

#include <boost/asio/awaitable.hpp>

#include "mail/request.h"

namespace ticketd::store {
class Database;
class Inbox;
}  // namespace ticketd::store

namespace ticketd::daemon {

/// What one cycle of one mailbox did.
struct PollResult {
    std::string account;
    bool ok = false;
    mail::ImapStatus status = mail::ImapStatus::ok;  ///< why it failed, when !ok
    std::string error;           ///< human readable, never a secret; empty when ok
    std::uint64_t uidvalidity = 0;
    bool uidvalidity_changed = false;
    std::size_t found = 0;       ///< new UIDs the search reported
    std::size_t stored = 0;      ///< rows committed this cycle
    std::size_t acknowledged = 0;
    std::size_t reacknowledged = 0;  ///< rows from an earlier cycle acknowledged now
    std::size_t skipped = 0;     ///< gone from the server between search and fetch
    /// Given up on (too large, or failing max_fetch_attempts cycles in a row): left on the
    /// server, kept as quarantined placeholders so the mail behind them goes on.
    std::size_t given_up = 0;
    std::size_t refetched = 0;   ///< released placeholders fetched again this cycle
    /// Committed but the server refused or missed the acknowledge: retried next cycle. Does not
    /// fail the cycle (new mail keeps coming in); `warning` says why.
    std::size_t unacknowledged = 0;
    std::string warning;
    std::int64_t ms = 0;
};

struct PollerOptions {
    /// First retry after a failed cycle; doubles per failure (with +-50% jitter) up to the max.
    std::chrono::milliseconds backoff_initial{std::chrono::seconds(5)};
    std::chrono::milliseconds backoff_max{std::chrono::minutes(15)};
    bool curl_verbose = false;
    /// false: plain `UID SEARCH UID a:b` in windows from the start. The poller falls back to
    /// that by itself when a server rejects ESEARCH; this is for servers that accept it wrongly.
    bool use_esearch = true;
    /// A message larger than this is not fetched into memory: it is left on the server and kept
    /// as a quarantined placeholder (outcome too_large). The parser's own limits.max_message_size
    /// quarantines (with the bytes) what is over that but under this.
    std::size_t max_fetch_bytes = 256u << 20;
    /// Fetch a batch in UID ranges (`UID FETCH a:b (UID RFC822.SIZE BODY.PEEK[])`, after one
    /// `UID FETCH a:b (UID RFC822.SIZE)`) instead of one round trip per message. What a range
    /// does not deliver whole is fetched alone as before. false: one message per request only.
    bool range_fetch = true;
};

class Poller {
public:
    /// Called after each committed batch with the new inbox ids (also ids already stored, when a
    /// batch is fetched again), so the pipeline can process them.
    using OnStored = std::function<void(const std::vector<std::int64_t>& inbox_ids)>;
    using OnCycle = std::function<void(const PollResult&)>;

    /// `db` must outlive the poller and is used only from the io_context's thread.
    Poller(boost::asio::io_context& io, store::Database& db, std::vector<config::ImapAccount> accounts,
           OnStored on_stored, PollerOptions options = {});
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    /// One cycle of every mailbox, all at once; `done` gets one result per account (in config
    /// order) when the last has finished. For `ticketd run --once`: call, then io.run().
    void run_once(std::function<void(std::vector<PollResult>)> done);

    /// Poll every mailbox forever: a cycle, then poll_interval (or backoff after a failure).
    void start();
    /// Stop polling: sleeping mailboxes stop at once, a cycle in progress (periodic or run_once)
    /// finishes the batch in hand (committed and acknowledged) and does not start another.
    /// `done` runs on the loop once no cycle is left. Destroy the Poller only after that (or
    /// after run_once's `done`): a cycle in flight uses it.
    void stop(std::function<void()> done = {});

    /// Observer for every finished cycle (tests, metrics).
    void on_cycle(OnCycle cb) { on_cycle_ = std::move(cb); }

private:
    struct Mailbox;
    boost::asio::awaitable<PollResult> guarded_cycle(Mailbox& mb);
    boost::asio::awaitable<PollResult> cycle(Mailbox& mb);
    boost::asio::awaitable<void> loop(Mailbox& mb);
    std::chrono::milliseconds backoff(Mailbox& mb);
    void loop_finished();

    boost::asio::io_context& io_;
    store::Database& db_;
    std::unique_ptr<store::Inbox> inbox_;
    std::vector<std::unique_ptr<Mailbox>> mailboxes_;
    OnStored on_stored_;
    OnCycle on_cycle_;
    PollerOptions options_;
    bool stopping_ = false;
    std::size_t loops_ = 0;  ///< coroutines in flight: periodic loops and run_once cycles
    std::vector<std::function<void()>> stopped_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ticketd::daemon
