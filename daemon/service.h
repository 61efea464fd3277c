#pragma once
// The daemon as a testable object: `ticketd run` builds one, `configure()`s it and runs it.
// It owns the config snapshot, the database, the pipeline and the IMAP poller, and reacts to
// signals on the loop (SIGTERM/SIGINT drain and exit, SIGHUP reloads all-or-nothing).
// Start in one place, stop in reverse: the poller stops before the pipeline, SQLite closes last.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/curl_multi.h"  // first: includes <utility> before Asio

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/failure_alert.h"
#include "daemon/metrics_server.h"
#include "daemon/config_watcher.h"
#include "daemon/poller.h"
#include "daemon/sender.h"
#include "daemon/sla_timer.h"

namespace ticketd::store {
class Database;
}
namespace ticketd::tickets {
class Pipeline;
}

namespace ticketd::daemon {

struct ServiceOptions {
    std::string config_path;
    /// How long SIGTERM may take before the loop is stopped regardless (systemd's
    /// TimeoutStopSec is longer, so we exit on our own terms).
    std::chrono::milliseconds stop_deadline{std::chrono::seconds(8)};
    /// Inbox rows left pending (e.g. after a temporary database error) are retried this often.
    std::chrono::milliseconds pending_retry{std::chrono::seconds(30)};
    PollerOptions poller;
};

class Service {
public:
    Service(boost::asio::io_context& io, ServiceOptions options);
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Load the config and open the database. Errors are logged; false means do not run.
    bool configure();

    /// One full cycle: poll every mailbox once, process everything pending, return.
    /// Exit status: 0 when every mailbox was polled, 75 (EX_TEMPFAIL) when one failed.
    int run_once();

    /// Run until SIGTERM/SIGINT (or stop()); returns the exit status (0 after a clean drain).
    int run();

    /// What SIGTERM does: stop polling, finish the batch in hand, exit the loop.
    void stop();
    /// What SIGHUP does: load a new snapshot and swap it in only if it is valid.
    bool reload();

    std::shared_ptr<const config::Config> config() const { return config_; }

private:
    // Loop thread: hands work to the processing thread.
    void on_stored(const std::vector<std::int64_t>& ids);
    void post_pending(std::int64_t after = 0);
    // Processing thread only.
    bool process_batch(const std::vector<std::int64_t>& ids);  ///< false: deferred (or draining)
    void process_pending(std::int64_t after);
    void start_worker();
    /// Runs `io` on a new thread; if a handler throws, logs `failure_event` and stops the daemon.
    std::thread run_on_thread(boost::asio::io_context& io, const char* failure_event);
    void stop_worker();

    void arm_pending_timer();
    void arm_watchdog();
    void wait_signals();
    void start_poller();
    void kick_sender();  ///< from any thread: the outbox may have new rows
    void on_cycle(const PollResult& r);  ///< metrics and the once-per-outage alert
    bool start_metrics();

    boost::asio::io_context& io_;
    ServiceOptions options_;
    std::shared_ptr<const config::Config> config_;
    std::unique_ptr<store::Database> db_;  ///< the loop thread's connection (poller, inbox)
    // Parsing and threading are CPU work: they run on their own thread with their own SQLite
    // connection (WAL: one writer at a time, the busy timeout queues the other), so the loop
    // fetches the next batch while the last one is being turned into tickets.
    boost::asio::io_context work_io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_guard_;
    std::thread worker_;
    std::unique_ptr<store::Database> work_db_;
    std::unique_ptr<tickets::Pipeline> pipeline_;  ///< used on the processing thread only
    /// Retention (issue 7): drop the raw bytes of mail of long-closed tickets, on the processing
    /// thread, at most once an hour (and at start).
    void post_prune();
    void post_digests();  ///< scheduled report digests (issue 9)
    void prune_retention(std::shared_ptr<const config::Config> cfg);
    std::chrono::steady_clock::time_point last_prune_{};
    bool pruned_once_ = false;
    std::atomic<bool> draining_{false};  ///< SIGTERM: skip queued batches (they stay pending)
    std::unique_ptr<Poller> poller_;
    std::unique_ptr<Poller> retiring_;  ///< the previous poller during a reload
    std::unique_ptr<ConfigWatcher> watcher_;  ///< reloads when the config or a rule file is saved
    /// Sends the outbox (issue 5); null without smtp:. `run --once` sends on the loop thread with
    /// the loop's connection after polling. The daemon sends on a thread of its own with its own
    /// connection (send_io_, send_db_): libcurl 7.88 waits for the server's final answer to a
    /// mail's data with a blocking poll inside the transfer (smtp_done), and a relay that takes
    /// seconds to accept (content filters) would otherwise hold up polling and the watchdog.
    /// In the daemon, sender_ is touched on the sending thread only.
    std::unique_ptr<OutboxSender> sender_;
    boost::asio::io_context send_io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> send_guard_;
    std::thread send_thread_;
    std::unique_ptr<store::Database> send_db_;
    /// Starts the sending thread (the daemon, before any other thread); false when its database
    /// connection cannot be opened.
    bool start_send_thread();
    void stop_send_thread();
    bool send_threaded_ = false;  ///< set before the processing thread starts, then only read
    /// Where sender_ lives: send_io_ in the daemon, else the loop.
    boost::asio::io_context& sender_io() { return send_threaded_ ? send_io_ : io_; }
    std::unique_ptr<SlaTimer> sla_timer_;  ///< SLA reminders and escalations (issue 6), on the processing thread
    std::unique_ptr<MetricsServer> metrics_server_;
    FailureAlerts imap_alerts_;  ///< survives reloads: an outage does not restart with the poller
    boost::asio::signal_set signals_;
    boost::asio::steady_timer pending_timer_;
    boost::asio::steady_timer watchdog_timer_;
    boost::asio::steady_timer stop_timer_;
    bool stopping_ = false;
    std::uint64_t watchdog_usec_ = 0;
    /// steady_clock ticks when the processing thread last ran a watchdog heartbeat.
    std::atomic<std::chrono::steady_clock::rep> worker_beat_{0};
    bool watchdog_withheld_ = false;
};

}  // namespace ticketd::daemon
