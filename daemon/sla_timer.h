#pragma once
// The SLA timer (issue 6): one Asio steady_timer armed for the earliest wake-up over all tickets
// (an indexed MIN over sla_tickets.next_wakeup), never a poll. It is re-armed after each ingest
// batch (a message may have started, stopped or moved a clock) and after each firing. Firing and
// the query run on the processing thread with its connection (one writer, the pipeline's), so an
// alarm's outbox row and fired key commit in one transaction there (tickets/sla.h).
//
// The clock is the database's (store::Database::now(), injectable): the timer waits
// wake-up minus now seconds of steady time, so it never wakes before an alarm is due.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "config/config.h"
#include "daemon/curl_multi.h"  // first: includes <utility> before Asio

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace ticketd::store {
class Database;
}

namespace ticketd::daemon {

class SlaTimer {
public:
    /// `loop`: where the timer lives; `worker` and `db`: the processing thread and its
    /// connection; `on_queued` runs (on the worker) after a firing queued mail (kick the sender).
    SlaTimer(boost::asio::io_context& loop, boost::asio::io_context& worker, store::Database& db,
             std::shared_ptr<const config::Config> config, std::function<void()> on_queued);
    ~SlaTimer();

    /// Arms the timer for the first time (posts the query to the worker).
    void start();
    /// Re-reads the earliest wake-up; call from the processing thread (after an ingest batch).
    void rearm_on_worker();
    /// A new config snapshot (reload): another sla: file may move every wake-up.
    void set_config(std::shared_ptr<const config::Config> config);
    /// Fires everything due now, synchronously on the calling (processing) thread: run --once.
    /// False after a store error (what was due stays due).
    bool fire_now();
    void stop();

    /// Wake-ups so far (for tests and the bench: the timer must not wake more than needed).
    std::uint64_t wakeups() const { return wakeups_.load(); }

private:
    void arm(std::optional<std::int64_t> wake, std::int64_t now);  // loop thread
    void fire();                                                   // worker thread
    bool fire_chunk(bool& more);  ///< one fire_due_sla call; false after a store error
    std::shared_ptr<const config::Config> config() const;

    boost::asio::io_context& loop_;
    boost::asio::io_context& worker_;
    store::Database& db_;
    mutable std::mutex mutex_;
    std::shared_ptr<const config::Config> config_;
    std::function<void()> on_queued_;
    boost::asio::steady_timer timer_;
    std::atomic<bool> stopped_{false};
    /// start() was called: `run`. Under `run --once` nothing arms the timer (fire_now does the
    /// work), or the armed timer would keep the loop, and so --once, waiting for the next due
    /// moment (up to kLongestWait).
    std::atomic<bool> started_{false};
    std::atomic<std::uint64_t> wakeups_{0};
};

}  // namespace ticketd::daemon
