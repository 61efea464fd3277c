#pragma once
// The outbox sender: takes due rows from the outbox and submits them through libcurl's SMTP on
// the Asio loop (daemon/curl_multi: never blocking it), over `smtp.connections` reused SMTP
// sessions ("lanes") in parallel. Each lane sends one mail at a time; the rows of one ticket
// always go to the same lane, oldest first, so a ticket's mails keep their order. Every answer
// is committed as soon as it comes: sent, retry later with backoff (4xx, network, TLS,
// authentication), or failed (5xx, or still refused after smtp.give_up_after). A pass opens one
// session first and the others only once a server has answered, so a dead server costs one
// attempt per pass, as with one connection. One easy handle per lane serves the whole pass.
//
// A crash between the server's 250 and that commit leaves the row queued: the next start sends
// the same bytes again, with the same Message-ID, once. At most one mail per lane can be in that
// state (each lane's next mail cannot get past MAIL FROM before the previous one's commit, and
// the loop commits one answer at a time), so a process crash resends at most `connections`
// mails, each once. `sent` commits wait for the disk (fsync) only every `sync_every` mails and
// for each lane's last mail of a batch read; the others are in the WAL, which a crash of the
// process keeps: a power cut resends at most the mails since the last fsync, each once, same
// Message-ID.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "config/config.h"
#include "daemon/curl_multi.h"  // first: includes <utility> before Asio
#include "daemon/failure_alert.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "mail/smtp.h"
#include "store/outbox.h"

namespace ticketd::store {
class Database;
}

namespace ticketd::daemon {

struct SenderOptions {
    /// Looked at this often even when nothing is due (rows queued by the processing thread or
    /// by `ticketd outbox retry` are also announced through kick()).
    std::chrono::milliseconds idle_check{std::chrono::seconds(30)};
    int batch = 100;  ///< rows read per query
    /// `sent` marks per fsync (1: every mark waits for the disk); see the comment at the top.
    int sync_every = 32;
    /// When a mail was accepted, start the next one (its MAIL FROM goes out) before committing
    /// the answer, so the commit overlaps the server's reply instead of adding to each mail.
    /// At most one mail is ever accepted and not yet committed either way (see the .cpp).
    bool overlap_commit = true;
    bool curl_verbose = false;
    /// Test seam: runs after the server accepted a mail and before that is committed; throwing
    /// there is a crash at the worst moment.
    std::function<void(const store::OutboxMail&)> before_commit;
};

struct FlushStats {
    int sent = 0, retried = 0, failed = 0;
    int connections = 0;  ///< SMTP connections opened (one for a whole queue when reuse works)
};

class OutboxSender {
public:
    OutboxSender(boost::asio::io_context& io, store::Database& db,
                 std::shared_ptr<const config::Config> config, SenderOptions options = {});
    ~OutboxSender();
    OutboxSender(const OutboxSender&) = delete;
    OutboxSender& operator=(const OutboxSender&) = delete;

    void set_config(std::shared_ptr<const config::Config> config);
    /// Daemon mode: send what is due now, then wait for the next due row (or idle_check).
    void start();
    /// Something may be due now (a processed batch, a poll cycle): look soon.
    void kick();
    /// `run --once`: send everything due now, then call `done` (on the loop).
    void flush(std::function<void(FlushStats)> done);
    /// Start nothing new; a mail in flight is abandoned when the loop stops (and resent once,
    /// with its Message-ID, on the next start).
    void stop();

    const FlushStats& stats() const { return stats_; }

private:
    /// One SMTP session's share of a pass: its rows oldest first and its easy handle (dropped
    /// when the pass ends, so new credentials or a new URL take effect with the next one).
    struct Lane {
        std::deque<store::OutboxMail> queue;
        std::optional<mail::SmtpRequest> request;
        bool in_flight = false;
        std::uint64_t seq = 0;  ///< its transfer in flight (of transfers_): an answer to an abandoned one is dropped
        std::uint64_t generation = 0;  ///< the smtp_ its handle was made with
    };

    void pass();
    /// The lane's next mail, or, when it has none, the end of the pass once no lane is busy.
    void lane_next(std::size_t lane);
    /// Start the idle lanes that have rows (after the first answer of a pass: the server is up),
    /// but `answered`, whose own answer goes on with it.
    void widen(std::size_t answered);
    void end_pass();
    void start_mail(std::size_t lane, store::OutboxMail m);
    void on_answer(std::size_t lane, const store::OutboxMail& m, CURLcode code,
                   std::chrono::steady_clock::time_point started);
    void clear_queues();
    void abandon_all();
    /// Records one answer; false when the pass must stop (the answer could not be committed).
    /// `last`: no mail of the lane's batch was left when it was answered (its commit waits for
    /// the disk).
    bool on_done(const store::OutboxMail& m, const mail::SmtpResult& r, long long ms, bool last);
    void arm_timer();
    bool load_credentials(std::string& error);
    /// Metrics and the once-per-outage alert (smtp.alert_after) from one attempt's answer.
    void record_health(const mail::SmtpResult& r);
    std::string server_label() const;
    static std::string smtp_cause(const mail::SmtpResult& r);

    boost::asio::io_context& io_;
    store::Database& db_;
    std::shared_ptr<const config::Config> config_;
    SenderOptions options_;
    CurlMulti multi_;
    boost::asio::steady_timer timer_;
    std::vector<Lane> lanes_;
    std::uint64_t transfers_ = 0;  ///< transfers started by this sender
    std::uint64_t smtp_generation_ = 0;  ///< bumped whenever smtp_ is loaded again
    bool widened_ = false;  ///< this pass's other lanes have been started
    bool crashed_ = false;  ///< the test seam's simulated crash: no answer is recorded after it
    int unsynced_sent_ = 0;  ///< `sent` commits since the last one that waited for the disk
    mail::SmtpOptions smtp_;
    bool credentials_loaded_ = false;
    bool running_ = false;  ///< a pass is under way
    bool again_ = false;    ///< kicked during a pass: look once more before sleeping
    bool daemon_ = false;
    bool stopped_ = false;
    bool network_down_ = false;  ///< the last attempt reached no server: wait before the next
    std::function<void(FlushStats)> flush_done_;
    FlushStats stats_;
    FailureAlerts alerts_;  ///< the SMTP server's current outage, if any
    std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace ticketd::daemon
