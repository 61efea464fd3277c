#pragma once
// The outbox sender: takes due rows from the outbox and submits them through libcurl's SMTP on
// the Asio loop (daemon/curl_multi: never blocking it), one at a time over a reused connection.
// Every answer is committed before the next mail goes: sent, retry later with backoff (4xx,
// network, TLS, authentication), or failed (5xx, or still refused after smtp.give_up_after).
// One easy handle serves the whole pass (libcurl keeps the SMTP connection open between mails).
//
// A crash between the server's 250 and that commit leaves the row queued: the next start sends
// the same bytes again, with the same Message-ID, once. The receiving side (and ticketd's own
// dedupe, for mail that comes back) sees one message. `sent` commits wait for the disk (fsync)
// only every `sync_every` mails and at the end of each batch read; the others are in the WAL,
// which a crash of the process keeps: so a process crash still resends at most the one mail in
// flight, and a power cut at most the mails since the last fsync, each once, same Message-ID.

#include <chrono>
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
    void pass();
    void send_next();
    void start_mail(store::OutboxMail m);
    /// Records one answer; false when the pass must stop (the answer could not be committed).
    /// `last`: no mail of the batch read was left when it was answered (its commit waits for
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
    std::vector<store::OutboxMail> queue_;
    /// One easy handle for the whole pass (dropped when the pass ends, so new credentials or a
    /// new URL take effect with the next one); `in_flight_` while it is sending.
    std::optional<mail::SmtpRequest> request_;
    bool in_flight_ = false;
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
