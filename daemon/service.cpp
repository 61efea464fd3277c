#include "daemon/service.h"

// Boost 1.74's coroutine frames trip GCC 12's -Wmismatched-new-delete (see poller.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/post.hpp>

#include <csignal>

#include "mail/imap.h"
#include "daemon/crash_points.h"
#include "daemon/report_digest.h"
#include "metrics/allocator.h"
#include "metrics/metrics.h"
#include "store/database.h"
#include "store/inbox.h"
#include "store/outbox.h"
#include "store/report_rows.h"
#include "store/status.h"
#include "config/secret_files.h"
#include "tickets/pipeline.h"

namespace ticketd::daemon {

namespace {

constexpr int kExTempFail = 75;

/// sd_notify is a no-op without NOTIFY_SOCKET, so the same binary runs in the foreground, in a
/// container or under systemd without a flag.
void notify(const std::string& state) { sd_notify(0, state.c_str()); }

}  // namespace

Service::Service(boost::asio::io_context& io, ServiceOptions options)
    : io_(io),
      options_(std::move(options)),
      signals_(io),
      pending_timer_(io),
      watchdog_timer_(io),
      stop_timer_(io) {}

// Stop in reverse order of start: the poller (which uses the database) before the pipeline,
// SQLite last.
Service::~Service() {
    poller_.reset();
    stop_send_thread();
    sender_.reset();
    retiring_.reset();
    stop_worker();
    sla_timer_.reset();  // after the worker: its queued handlers use the timer
    pipeline_.reset();
    work_db_.reset();
    db_.reset();
}

namespace {

/// Warnings, not refusals: a mailbox whose secret is missing fails on its own and is retried.
void log_password_file_findings(const config::Config& config) {
    for (const auto& f : config::check_secret_files(config))
        spdlog::warn("event=config.password_file problem={} key={} path=\"{}\" at=\"{}\" message=\"{}\"", f.problem,
                     f.key, f.path, f.at, f.message);
}

}  // namespace

bool Service::configure() {
    auto loaded = config::load_file(options_.config_path);
    for (const auto& e : loaded.errors) spdlog::error("event=config.invalid error=\"{}\"", e.to_string());
    if (!loaded.config) return false;
    config_ = loaded.config;
    log_password_file_findings(*config_);
    try {
        db_ = std::make_unique<store::Database>(config_->desk.database);
        work_db_ = std::make_unique<store::Database>(config_->desk.database);
    } catch (const store::Error& e) {
        spdlog::error("event=store.open_failed path=\"{}\" error=\"{}\"", config_->desk.database, e.what());
        return false;
    }
    pipeline_ = std::make_unique<tickets::Pipeline>(*work_db_, config_);
    if (config_->smtp) sender_ = std::make_unique<OutboxSender>(io_, *db_, config_);
    sla_timer_ = std::make_unique<SlaTimer>(io_, work_io_, *work_db_, config_, [this] { kick_sender(); });
    spdlog::info("event=service.configured config=\"{}\" database=\"{}\" mailboxes={} allocator=\"{}\"",
                 options_.config_path, config_->desk.database, config_->imap.size(),
                 metrics::describe(metrics::allocator_in_use()));
    return true;
}

void Service::kick_sender() {
    boost::asio::post(sender_io(), [this] {
        if (sender_) sender_->kick();
    });
}

bool Service::start_send_thread() {
    try {
        send_db_ = std::make_unique<store::Database>(config_->desk.database);
    } catch (const store::Error& e) {
        spdlog::error("event=store.open_failed path=\"{}\" error=\"{}\"", config_->desk.database, e.what());
        return false;
    }
    // configure() made the sender on the loop (what `run --once` uses); nothing has started it,
    // and no other thread runs yet: it is replaced by one on the sending thread.
    if (sender_) sender_ = std::make_unique<OutboxSender>(send_io_, *send_db_, config_);
    send_guard_.emplace(send_io_.get_executor());
    send_threaded_ = true;
    // Nothing is lost if it fails (rows stay queued; at most the mail in flight goes once more).
    send_thread_ = run_on_thread(send_io_, "outbox.thread_failed");
    return true;
}

/// Abandons a mail in flight (as the loop's stop did when it sent from the loop: it goes once
/// more, with the same Message-ID, at the next start) and joins the sending thread.
void Service::stop_send_thread() {
    if (!send_thread_.joinable()) return;
    boost::asio::post(send_io_, [this] {
        sender_.reset();
        send_io_.stop();
    });
    send_guard_.reset();
    send_thread_.join();
    send_db_.reset();
}

void Service::start_poller() {
    poller_ = std::make_unique<Poller>(
        io_, *db_, config_->imap, [this](const std::vector<std::int64_t>& ids) { on_stored(ids); },
        options_.poller);
    poller_->on_cycle([this](const PollResult& r) { on_cycle(r); });
}

void Service::on_cycle(const PollResult& r) {
    try {
        store::record_poll(*db_, r.account, r.ok, db_->now(), r.ok ? "" : mail::log_safe(r.error, 300));
    } catch (const store::Error& e) {
        // Only `ticketd status` reads it; the mail itself is unaffected.
        spdlog::warn("event=store.record_poll_failed account={} error=\"{}\"", r.account, e.what());
    }
    metrics::messages_fetched(r.account, r.stored);
    if (r.ok) {
        auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
        metrics::imap_cycle_ok(r.account, now.count());
    } else {
        metrics::imap_error(r.account, mail::to_string(r.status));
    }
    std::chrono::seconds alert_after = config::ImapAccount{}.alert_after;
    for (const auto& a : config_->imap)
        if (a.name == r.account) alert_after = a.alert_after;
    const auto now = FailureAlerts::Clock::now();
    const auto since = imap_alerts_.failing_since(r.account);
    const auto seconds = [&](FailureAlerts::Clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
    };
    switch (imap_alerts_.record(r.account, r.ok, now, alert_after)) {
    case FailureAlerts::Event::alert:
        // Each failed retry was a warning; this is the one line an alerting rule should match.
        spdlog::error("event=imap.mailbox_failing account={} failing_s={} alert_after_s={} status={} error=\"{}\"",
                      r.account, seconds(*imap_alerts_.failing_since(r.account)), alert_after.count(),
                      mail::to_string(r.status), mail::log_safe(r.error, 300));
        notify("STATUS=mailbox " + r.account + " failing: " + mail::to_string(r.status));
        break;
    case FailureAlerts::Event::recovered:
        spdlog::info("event=imap.mailbox_recovered account={} failed_for_s={}", r.account, since ? seconds(*since) : 0);
        notify("STATUS=polling " + std::to_string(config_->imap.size()) + " mailbox(es)");
        break;
    case FailureAlerts::Event::none:
        break;
    }
}

bool Service::start_metrics() {
    metrics::register_all();
    const auto& m = config_->metrics;
    if (!m.enabled()) return true;
    try {
        metrics_server_ = std::make_unique<MetricsServer>(io_, m.host, m.port, [this] {
            // The backlog is read at scrape time (issue 9): one indexed query on the loop's connection.
            try {
                const auto b = store::read_backlog(*db_);
                metrics::backlog(b.open, b.pending, b.oldest_created_at ? double(db_->now() - *b.oldest_created_at) : 0.0);
                metrics::outbox_depth(store::Outbox(*db_).count(store::OutboxState::queued));  // outbox_state index
            } catch (const store::Error& e) {
                spdlog::warn("event=metrics.backlog_failed error=\"{}\"", e.what());  // the rest still answers
            }
            return metrics::registry().expose();
        });
    } catch (const boost::system::system_error& e) {
        spdlog::error("event=metrics.listen_failed listen=\"{}\" error=\"{}\"", m.listen, e.code().message());
        return false;
    }
    metrics_server_->start();
    spdlog::info("event=metrics.listening address={} port={}", m.host, metrics_server_->port());
    return true;
}

void Service::start_worker() {
    if (worker_.joinable()) return;
    work_guard_.emplace(work_io_.get_executor());
    // Nothing is lost if it fails (rows stay pending).
    worker_ = run_on_thread(work_io_, "ingest.worker_failed");
}

std::thread Service::run_on_thread(boost::asio::io_context& io, const char* failure_event) {
    return std::thread([this, &io, failure_event] {
        try {
            io.run();
        } catch (const std::exception& e) {
            // A thread that died would leave the daemon running half: stop it all instead.
            spdlog::critical("event={} error=\"{}\"", failure_event, e.what());
            boost::asio::post(io_, [this] { stop(); });
        }
    });
}

/// Lets the processing thread finish what is queued (skipping it when draining), then joins.
void Service::stop_worker() {
    if (!worker_.joinable()) return;
    work_guard_.reset();
    worker_.join();
}

void Service::on_stored(const std::vector<std::int64_t>& ids) {
    boost::asio::post(work_io_, [this, ids] { process_batch(ids); });
}

void Service::post_pending(std::int64_t after) {
    boost::asio::post(work_io_, [this, after] { process_pending(after); });
}

bool Service::process_batch(const std::vector<std::int64_t>& ids) {
    // Raw bytes are committed and acknowledged; turning them into tickets happens here. The
    // batch shares ONE durable commit: each message still runs in its own SAVEPOINT, so its
    // ticket, message, attachments and trail go in together or not at all (DESIGN.md #3), but
    // the disk syncs once per batch instead of once per message. A temporary store error rolls
    // the whole batch back to pending for the retry timer (the raw bytes are safe in the inbox);
    // anything else the pipeline quarantines itself, message by message.
    if (draining_) return false;  // stays pending; the next start processes it first
    std::vector<std::string> lines;
    std::vector<tickets::Outcome> outcomes;
    try {
        store::Transaction batch(*work_db_);
        for (auto id : ids) {
            auto out = pipeline_->process(id);
            if (out.already_processed) continue;
            outcomes.push_back(out.outcome);
            lines.push_back(fmt::format("event=ingest.processed inbox={} outcome={} ticket={} signal={}", id,
                                        tickets::to_string(out.outcome),
                                        out.ticket_number ? std::to_string(*out.ticket_number) : "-",
                                        tickets::to_string(out.signal)));
        }
        batch.commit();
        crash_point("ingest.processed");
    } catch (const store::Error& e) {
        spdlog::warn("event=ingest.deferred count={} temporary={} error=\"{}\"", ids.size(), e.temporary(), e.what());
        return false;
    }
    for (const auto& l : lines) spdlog::info("{}", l);  // only what was committed is reported
    kick_sender();  // acknowledgements queued with these messages go out now
    if (sla_timer_) sla_timer_->rearm_on_worker();  // these messages may have moved SLA clocks
    for (auto o : outcomes) metrics::message_processed(tickets::to_string(o));  // likewise counted
    return true;
}

void Service::process_pending(std::int64_t after) {
    // One chunk per handler, re-posted while there is more: a long backlog (after a crash or an
    // outage) interleaves with fresh batches and the watchdog heartbeat instead of holding the
    // processing thread for minutes. Forward from the last id only, so an entry left pending is
    // not retried in a tight loop (the retry timer comes back for it).
    if (draining_) return;
    constexpr int kChunk = 64;
    std::vector<std::int64_t> ids;
    try {
        ids = store::Inbox(*work_db_).pending_after(after, kChunk);
    } catch (const store::Error& e) {
        spdlog::warn("event=ingest.deferred temporary={} error=\"{}\"", e.temporary(), e.what());
        return;
    }
    if (ids.empty() || !process_batch(ids)) return;
    if (ids.size() == static_cast<std::size_t>(kChunk)) post_pending(ids.back());
}

void Service::arm_pending_timer() {
    pending_timer_.expires_after(options_.pending_retry);
    pending_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopping_) return;
        post_pending();
        post_prune();
        post_digests();
        arm_pending_timer();
    });
}

void Service::post_digests() {
    // Report digests (issue 9) whose period ended: queued on the processing thread, then sent.
    if (!config_ || config_->reports.empty()) return;
    boost::asio::post(work_io_, [this, cfg = config_] {
        if (run_due_digests(*work_db_, cfg) > 0) kick_sender();
    });
}

void Service::post_prune() {
    if (!config_ || !config_->retention.raw_mail_after) return;
    const auto now = std::chrono::steady_clock::now();
    if (pruned_once_ && now - last_prune_ < std::chrono::hours(1)) return;
    pruned_once_ = true;
    last_prune_ = now;
    boost::asio::post(work_io_, [this, cfg = config_] { prune_retention(cfg); });
}

void Service::prune_retention(std::shared_ptr<const config::Config> cfg) {
    // In chunks, each its own short transaction, so ingestion never waits long for the lock.
    const std::int64_t before = work_db_->now() - cfg->retention.raw_mail_after->count();
    std::int64_t total = 0;
    try {
        for (std::int64_t n = 1; n > 0 && !draining_; total += n)
            n = store::Inbox(*work_db_).prune_raw(before, 500);
    } catch (const store::Error& e) {
        spdlog::warn("event=retention.deferred temporary={} error=\"{}\"", e.temporary(), e.what());
    }
    if (total > 0) spdlog::info("event=retention.pruned raw_mail={} closed_before={}", total, before);
}

void Service::arm_watchdog() {
    // Pinged from the loop itself, and only while the processing thread keeps up: each tick posts
    // a heartbeat to it, and the next tick pings only if a heartbeat ran within the watchdog
    // interval. A hung loop or a stuck processing thread (a batch is bounded by batch_size, far
    // below a minute) stops the pings, and systemd restarts us; nothing is lost (rows stay pending).
    if (!watchdog_usec_) return;
    watchdog_timer_.expires_after(std::chrono::microseconds(watchdog_usec_ / 2));
    watchdog_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        const auto now = std::chrono::steady_clock::now().time_since_epoch();
        const auto beat = std::chrono::steady_clock::duration(worker_beat_.load());
        const auto stalled = std::chrono::duration_cast<std::chrono::milliseconds>(now - beat);
        if (stalled <= std::chrono::microseconds(watchdog_usec_)) {
            notify("WATCHDOG=1");
            watchdog_withheld_ = false;
        } else if (!watchdog_withheld_) {
            watchdog_withheld_ = true;  // once per stall: the restart follows
            spdlog::error("event=service.watchdog_withheld reason=processing_thread_stalled stalled_ms={}",
                          stalled.count());
        }
        boost::asio::post(work_io_, [this] {
            worker_beat_.store(std::chrono::steady_clock::now().time_since_epoch().count());
        });
        arm_watchdog();
    });
}

void Service::wait_signals() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            reload();
            wait_signals();
            return;
        }
        spdlog::info("event=service.signal signal={}", sig == SIGTERM ? "TERM" : "INT");
        stop();
    });
}

int Service::run_once() {
    std::signal(SIGPIPE, SIG_IGN);  // a peer closing on us is an error value, never a signal
    std::vector<PollResult> results;
    start_worker();
    post_pending();  // leftovers of an earlier run first: oldest mail first
    start_poller();
    poller_->run_once([&](std::vector<PollResult> r) { results = std::move(r); });
    io_.run();
    io_.restart();
    post_pending();  // anything a temporary error left behind gets one more try
    post_prune();
    boost::asio::post(work_io_, [this, cfg = config_] { run_due_digests(*work_db_, cfg); });  // flushed below
    boost::asio::post(work_io_, [this] { sla_timer_->fire_now(); });  // SLA alarms due now (issue 6)
    stop_worker();   // returns once every queued batch is processed
    int status = 0;
    if (sender_) {
        // --once flushes the outbox before exiting: everything due now is sent (or rescheduled).
        io_.restart();
        sender_->flush([](FlushStats s) {
            spdlog::info("event=outbox.flushed sent={} retried={} failed={}", s.sent, s.retried, s.failed);
        });
        io_.run();
        // Mail still queued after the flush had to wait (server down, 4xx; in this run or an
        // earlier one): a temporary failure for cron, like a mailbox that could not be polled.
        try {
            if (const auto waiting = store::Outbox(*db_).count(store::OutboxState::queued); waiting > 0) {
                spdlog::warn("event=outbox.waiting queued={}", waiting);
                status = kExTempFail;
            }
        } catch (const store::Error& e) {
            spdlog::warn("event=outbox.count_failed error=\"{}\"", e.what());
            status = kExTempFail;
        }
    }
    for (const auto& r : results) {
        if (!r.ok) status = kExTempFail;
    }
    poller_.reset();
    return status;
}

int Service::run() {
    std::signal(SIGPIPE, SIG_IGN);
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    signals_.add(SIGHUP);
    wait_signals();

    if (!start_metrics()) return 1;  // before READY: systemd sees the failure and retries
    if (!start_send_thread()) return 1;
    start_worker();
    post_pending();
    post_prune();
    post_digests();
    start_poller();
    poller_->start();
    arm_pending_timer();
    // Saving the config or a rule file reloads like SIGHUP: all or nothing (issue 4).
    watcher_ = std::make_unique<ConfigWatcher>(io_, [this] {
        if (!stopping_) reload();
    });
    watcher_->watch(watched_paths(*config_));
    boost::asio::post(send_io_, [this] {
        if (sender_) sender_->start();
    });
    sla_timer_->start();
    if (sd_watchdog_enabled(0, &watchdog_usec_) <= 0) watchdog_usec_ = 0;
    worker_beat_.store(std::chrono::steady_clock::now().time_since_epoch().count());
    arm_watchdog();
    notify("READY=1\nSTATUS=polling " + std::to_string(config_->imap.size()) + " mailbox(es)");
    spdlog::info("event=service.ready mailboxes={}", config_->imap.size());
    io_.run();
    stop_send_thread();
    stop_worker();
    spdlog::info("event=service.stopped");
    return 0;
}

void Service::stop() {
    if (stopping_) return;
    stopping_ = true;
    draining_ = true;  // the processing thread finishes its batch and skips the queued ones
    notify("STOPPING=1");
    pending_timer_.cancel();
    if (sla_timer_) sla_timer_->stop();
    if (watcher_) watcher_->stop();
    boost::asio::post(sender_io(), [this] {
        if (sender_) sender_->stop();
    });
    // A cycle in progress finishes its batch (committed and acknowledged); past the deadline
    // the loop stops anyway: anything not acknowledged is refetched and deduplicated next start.
    stop_timer_.expires_after(options_.stop_deadline);
    stop_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        spdlog::warn("event=service.stop_deadline ms={}", options_.stop_deadline.count());
        io_.stop();
    });
    auto finish = [this] {
        if (metrics_server_) metrics_server_->stop();
        stop_timer_.cancel();
        watchdog_timer_.cancel();
        signals_.cancel();
        io_.stop();
    };
    if (poller_) poller_->stop(finish);
    else if (retiring_) retiring_->stop(finish);  // mid-reload: wait for the old one instead
    else finish();
}

bool Service::reload() {
    notify("RELOADING=1");
    auto loaded = config::load_file(options_.config_path);
    if (!loaded.config) {
        for (const auto& e : loaded.errors)
            spdlog::error("event=config.reload_rejected error=\"{}\"", e.to_string());
        spdlog::error("event=config.reload_failed errors={} action=keeping_current_config", loaded.errors.size());
        metrics::config_reload(false);
        notify("READY=1\nSTATUS=reload failed, running on the previous configuration");
        return false;
    }
    if (loaded.config->desk.database != config_->desk.database) {
        spdlog::error("event=config.reload_failed reason=\"desk.database changed: restart to switch databases\" "
                      "action=keeping_current_config");
        metrics::config_reload(false);
        notify("READY=1\nSTATUS=reload refused: database path changed");
        return false;
    }
    if (loaded.config->metrics.listen != config_->metrics.listen)
        spdlog::warn("event=config.reload_partial key=metrics.listen action=restart_to_apply");
    config_ = loaded.config;
    log_password_file_findings(*config_);
    metrics::config_reload(true);
    boost::asio::post(work_io_, [this, cfg = config_] { pipeline_->set_config(cfg); });
    if (sla_timer_) sla_timer_->set_config(config_);
    if (send_threaded_) {
        boost::asio::post(send_io_, [this, cfg = config_] {
            if (sender_) {
                sender_->set_config(cfg);
            } else if (cfg->smtp) {  // smtp: added by this reload: sending starts now
                sender_ = std::make_unique<OutboxSender>(send_io_, *send_db_, cfg);
                sender_->start();
            }
        });
    } else if (sender_) {
        sender_->set_config(config_);
    }
    // New mailbox settings take effect through a fresh poller once the old one has finished the
    // batch in hand; cursors live in the database, so nothing is fetched twice.
    if (poller_ && !stopping_ && !retiring_) {
        retiring_ = std::move(poller_);
        retiring_->stop([this] {
            // Destroy outside the old poller's own completion handler.
            boost::asio::post(io_, [this] {
                retiring_.reset();
                if (stopping_) return;
                start_poller();
                poller_->start();
            });
        });
    }
    if (watcher_) watcher_->watch(watched_paths(*config_));  // the new config may name other files
    spdlog::info("event=config.reloaded mailboxes={} rules={}", config_->imap.size(), config_->rules.rules.size());
    notify("READY=1\nSTATUS=configuration reloaded");
    return true;
}

}  // namespace ticketd::daemon
