#include "daemon/sender.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>

#include "daemon/crash_points.h"
#include "mail/imap.h"
#include "metrics/metrics.h"
#include "mail/request.h"
#include "store/database.h"
#include "tickets/threading.h"

namespace ticketd::daemon {

OutboxSender::OutboxSender(boost::asio::io_context& io, store::Database& db,
                           std::shared_ptr<const config::Config> config, SenderOptions options)
    : io_(io), db_(db), config_(std::move(config)), options_(std::move(options)), multi_(io), timer_(io) {}

OutboxSender::~OutboxSender() {
    timer_.cancel();
    abandon_all();
}

void OutboxSender::set_config(std::shared_ptr<const config::Config> config) {
    config_ = std::move(config);
    credentials_loaded_ = false;  // a new password file or token command takes effect now
}

void OutboxSender::start() {
    daemon_ = true;
    pass();
}

void OutboxSender::kick() {
    if (stopped_) return;
    if (running_) {
        again_ = true;
        return;
    }
    pass();
}

void OutboxSender::flush(std::function<void(FlushStats)> done) {
    flush_done_ = std::move(done);
    stats_ = {};
    network_down_ = false;
    pass();
}

void OutboxSender::stop() {
    stopped_ = true;
    timer_.cancel();
}

bool OutboxSender::load_credentials(std::string& error) {
    if (credentials_loaded_) return true;
    const auto& s = *config_->smtp;
    mail::SmtpOptions o;
    o.url = mail::smtp_url_with_ehlo(s.url, tickets::our_host(config_->desk));
    o.username = s.username;
    o.tls_verify = s.tls_verify;
    o.ca_file = s.ca_file;
    o.require_starttls = s.require_starttls;
    o.connect_timeout = s.connect_timeout;
    o.transfer_timeout = s.transfer_timeout;
    o.verbose = options_.curl_verbose;
    if (!s.username.empty()) {
        if (!s.xoauth2_token_command.empty()) {
            auto token = mail::run_token_command(s.xoauth2_token_command, error);
            if (!token) return false;
            o.oauth2_token = *token;
        } else {
            auto pw = mail::load_secret_file(s.password_file, error);
            if (!pw) return false;
            o.password = *pw;
        }
    }
    smtp_ = std::move(o);
    ++smtp_generation_;  // each lane's handle carries the old options: renewed at its next mail
    credentials_loaded_ = true;
    return true;
}

void OutboxSender::pass() {
    if (running_ || stopped_) return;
    timer_.cancel();
    if (!config_->smtp) return;
    running_ = true;
    again_ = false;
    // OAuth2 tokens expire: fetch a fresh one for every pass (a token command is cheap next to
    // a mail that fails on a stale token).
    if (!config_->smtp->xoauth2_token_command.empty()) credentials_loaded_ = false;
    std::vector<store::OutboxMail> due;
    try {
        due = store::Outbox(db_).due(db_.now(), options_.batch);
    } catch (const store::Error& e) {
        spdlog::warn("event=outbox.read_failed temporary={} error=\"{}\"", e.temporary(), e.what());
    }
    // Lanes are rebuilt per pass (smtp.connections may have changed with a reload); the rows of
    // a ticket go to one lane, so they leave in order; rows of no ticket are spread by id.
    lanes_.clear();
    lanes_.resize(static_cast<std::size_t>(std::max(1, config_->smtp->connections)));
    widened_ = false;
    const auto lane_of = [this](const store::OutboxMail& m) {
        const std::int64_t key = m.ticket ? *m.ticket : m.id;
        return static_cast<std::size_t>(key < 0 ? -key : key) % lanes_.size();
    };
    // The lane of the oldest row starts alone; the others follow its first answer (widen()).
    const std::size_t first = due.empty() ? 0 : lane_of(due.front());
    for (auto& m : due) lanes_[lane_of(m)].queue.push_back(std::move(m));
    lane_next(first);
}

void OutboxSender::clear_queues() {
    for (auto& lane : lanes_) lane.queue.clear();
}

void OutboxSender::abandon_all() {
    for (auto& lane : lanes_) {
        if (lane.in_flight) multi_.remove(lane.request->handle());
        lane.in_flight = false;
    }
}

void OutboxSender::widen(std::size_t answered) {
    if (widened_) return;
    widened_ = true;
    for (std::size_t i = 0; i < lanes_.size(); ++i)
        if (i != answered && !lanes_[i].in_flight && !lanes_[i].queue.empty()) lane_next(i);
}

void OutboxSender::lane_next(std::size_t i) {
    Lane& lane = lanes_[i];
    if (!stopped_ && !lane.queue.empty()) {
        std::string error;
        if (!load_credentials(error)) {
            spdlog::error("event=smtp.credentials_failed error=\"{}\"", mail::log_safe(error, 300));
            clear_queues();
            network_down_ = true;
        } else {
            store::OutboxMail m = std::move(lane.queue.front());
            lane.queue.pop_front();
            return start_mail(i, std::move(m));
        }
    }
    lane.request.reset();
    // This lane is done; the pass ends with the last busy one.
    for (const auto& other : lanes_)
        if (other.in_flight) return;
    end_pass();
}

void OutboxSender::end_pass() {
    const auto finish = [this] {
        running_ = false;
        if (again_ && !stopped_) {
            boost::asio::post(io_, [this] { kick(); });
            return;
        }
        if (flush_done_) {
            auto done = std::move(flush_done_);
            flush_done_ = nullptr;
            boost::asio::post(io_, [done = std::move(done), s = stats_] { done(s); });
        }
        if (daemon_ && !stopped_) arm_timer();
    };
    if (stopped_) return finish();
    // A full batch means there may be more due behind it.
    bool more = false;
    try {
        more = !store::Outbox(db_).due(db_.now(), 1, false).empty();
    } catch (const store::Error&) {
    }
    if (more && !network_down_) {
        running_ = false;
        boost::asio::post(io_, [this] { pass(); });
        return;
    }
    finish();
}

void OutboxSender::start_mail(std::size_t i, store::OutboxMail m) {
    Lane& lane = lanes_[i];
    if (lane.request && lane.generation == smtp_generation_) {
        lane.request->next_mail(m.mail_from, m.recipients, std::move(m.raw));
    } else {
        lane.request.emplace(smtp_, m.mail_from, m.recipients, std::move(m.raw));
        lane.generation = smtp_generation_;
    }
    m.raw.clear();
    const auto started = std::chrono::steady_clock::now();
    lane.in_flight = true;
    const std::uint64_t seq = lane.seq = ++transfers_;
    multi_.add(lane.request->handle(), [this, i, seq, m = std::move(m), started](CURLcode code) {
        // An answer to a transfer abandoned meanwhile (posted before it was removed) is dropped.
        if (crashed_ || i >= lanes_.size() || lanes_[i].seq != seq || !lanes_[i].in_flight) return;
        on_answer(i, m, code, started);
    });
}

void OutboxSender::on_answer(std::size_t i, const store::OutboxMail& m, CURLcode code,
                             std::chrono::steady_clock::time_point started) {
    Lane& lane = lanes_[i];
    lane.in_flight = false;
    const mail::SmtpResult r = lane.request->result(code);  // read before the handle is reused
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const bool last = lane.queue.empty();
    // Overlap: the lane's next mail starts (its MAIL FROM is sent now) before this one's commit,
    // which then runs while the server answers. The loop does nothing else until the commit
    // returns, so the next mail cannot reach DATA's end, let alone be accepted, before this
    // one is marked: still at most one accepted mail per lane not committed, as without overlap.
    const bool overlap = options_.overlap_commit && r.outcome == mail::SmtpOutcome::sent && !last &&
                         !stopped_ && credentials_loaded_ && lane.request;
    if (overlap) {
        store::OutboxMail next = std::move(lane.queue.front());
        lane.queue.pop_front();
        start_mail(i, std::move(next));
        multi_.start_now();
    }
    const bool go_on = on_done(m, r, ms.count(), last);
    if (crashed_) {
        // The test seam's crash: every transfer still open dies with the process.
        abandon_all();
        return lane_next(i);
    }
    // A server answered (even 4xx): it is up, the other lanes may open their sessions. Without
    // an answer the queues were cleared and nothing more starts in this pass.
    if (r.reply != 0) widen(i);
    if (!overlap) return lane_next(i);
    if (go_on) return;  // the next mail's answer continues the lane
    // This answer could not be committed: the pass stops, and the lane's next mail, not past
    // MAIL FROM, is abandoned (still queued; the server drops a transaction without DATA).
    if (lane.in_flight) multi_.remove(lane.request->handle());
    lane.in_flight = false;
    lane_next(i);
}

void OutboxSender::record_health(const mail::SmtpResult& r) {
    // The server is healthy when it takes mail or refuses one for that mail's own reasons (5xx);
    // it is failing while nothing gets through (no connection, TLS, authentication, 4xx).
    const bool ok = r.outcome != mail::SmtpOutcome::temporary;
    if (!ok) metrics::smtp_error(server_label(), smtp_cause(r));
    const auto now = FailureAlerts::Clock::now();
    const auto since = alerts_.failing_since("smtp");
    const auto alert_after = config_->smtp ? config_->smtp->alert_after : config::SmtpConfig{}.alert_after;
    const auto seconds = [&](FailureAlerts::Clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
    };
    switch (alerts_.record("smtp", ok, now, alert_after)) {
        case FailureAlerts::Event::alert:
            // Each deferred mail was a warning; this is the one line an alerting rule should match.
            spdlog::error("event=smtp.server_failing server={} failing_s={} alert_after_s={} reply={} error=\"{}\"",
                          server_label(), seconds(*alerts_.failing_since("smtp")), alert_after.count(), r.reply,
                          r.error);
            break;
        case FailureAlerts::Event::recovered:
            spdlog::info("event=smtp.server_recovered server={} failed_for_s={}", server_label(),
                         since ? seconds(*since) : 0);
            break;
        case FailureAlerts::Event::none:
            break;
    }
}

std::string OutboxSender::server_label() const {
    // host:port of smtp.url, never its credentials (a URL may carry user:password@).
    if (!config_->smtp) return "smtp";
    std::string u = config_->smtp->url;
    if (auto p = u.find("://"); p != std::string::npos) u.erase(0, p + 3);
    if (auto at = u.rfind('@'); at != std::string::npos) u.erase(0, at + 1);
    if (auto slash = u.find('/'); slash != std::string::npos) u.erase(slash);
    return u.empty() ? "smtp" : u;
}

std::string OutboxSender::smtp_cause(const mail::SmtpResult& r) {
    if (r.reply == 530 || r.reply == 534 || r.reply == 535 || r.reply == 538) return "auth";
    if (r.reply >= 400) return "reply_" + std::to_string(r.reply);
    switch (r.code) {
        case CURLE_OPERATION_TIMEDOUT: return "timeout";
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST: return "connect";
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_USE_SSL_FAILED: return "tls";
        default: return "network";
    }
}

bool OutboxSender::on_done(const store::OutboxMail& m, const mail::SmtpResult& r, long long ms, bool last) {
    store::Outbox outbox(db_);
    const std::int64_t now = db_.now();
    stats_.connections += static_cast<int>(r.new_connections);
    record_health(r);
    std::string rcpt;
    for (const auto& x : m.recipients) rcpt += (rcpt.empty() ? "" : ",") + x;
    try {
        switch (r.outcome) {
            case mail::SmtpOutcome::sent:
                if (options_.before_commit) options_.before_commit(m);
                crash_point("smtp.accepted");
                {
                    // The last mail of what was read waits for the disk, and so does every
                    // sync_every-th: the fsync of one commit makes the earlier ones durable too.
                    const bool wait_for_disk = last || unsynced_sent_ + 1 >= options_.sync_every;
                    outbox.mark_sent(m.id, now, wait_for_disk);
                    unsynced_sent_ = wait_for_disk ? 0 : unsynced_sent_ + 1;
                }
                crash_point("smtp.sent");
                ++stats_.sent;
                metrics::outbox_sent();
                if (m.kind == "acknowledgement") metrics::auto_reply_sent();
                network_down_ = false;
                spdlog::info("event=smtp.sent outbox={} kind={} message_id=<{}> to={} ms={}", m.id, m.kind, m.message_id,
                             rcpt, ms);
                return true;
            case mail::SmtpOutcome::permanent:
                outbox.mark_failed(m.id, r.error, now);
                ++stats_.failed;
                metrics::outbox_failed();
                spdlog::error("event=smtp.failed outbox={} kind={} message_id=<{}> to={} reply={} error=\"{}\"", m.id,
                              m.kind, m.message_id, rcpt, r.reply, r.error);
                return true;
            case mail::SmtpOutcome::temporary: {
                const std::int64_t next = now + store::retry_delay(m.attempts + 1,
                                                                   std::uniform_real_distribution<>(0, 1)(rng_));
                const auto give_up = config_->smtp ? config_->smtp->give_up_after.count() : 0;
                if (next - m.created_at > give_up) {
                    outbox.mark_failed(m.id, "gave up after " + std::to_string(m.attempts + 1) +
                                                 " attempt(s) over " + std::to_string(now - m.created_at) +
                                                 " s; last error: " + r.error,
                                       now);
                    ++stats_.failed;
                    metrics::outbox_failed();
                    spdlog::error("event=smtp.expired outbox={} message_id=<{}> to={} error=\"{}\"", m.id,
                                  m.message_id, rcpt, r.error);
                    return true;
                }
                outbox.retry_later(m.id, r.error, next);
                ++stats_.retried;
                spdlog::warn("event=smtp.deferred outbox={} message_id=<{}> to={} reply={} retry_in_s={} error=\"{}\"",
                             m.id, m.message_id, rcpt, r.reply, next - now, r.error);
                // No server answered at all: the rest of the queue would fail the same way; wait
                // for this row's backoff instead of walking every mail into the same wall.
                if (r.reply == 0) {
                    network_down_ = true;
                    clear_queues();
                }
                return true;
            }
        }
    } catch (const store::Error& e) {
        // The answer could not be recorded: the row stays as it was (for a sent mail: queued,
        // so it goes once more with the same Message-ID). Stop this pass; the timer returns.
        spdlog::error("event=outbox.commit_failed outbox={} outcome={} error=\"{}\"", m.id, mail::to_string(r.outcome),
                      e.what());
        clear_queues();
        network_down_ = true;  // pause: the same row is still due, and must not go round in a loop
    } catch (const std::exception& e) {
        spdlog::error("event=outbox.commit_failed outbox={} outcome={} error=\"{}\"", m.id, mail::to_string(r.outcome),
                      e.what());
        clear_queues();
        stopped_ = true;  // the test seam's simulated crash: nothing more happens in this run
        crashed_ = true;
    }
    return false;
}

void OutboxSender::arm_timer() {
    std::chrono::milliseconds wait = options_.idle_check;
    try {
        if (auto next = store::Outbox(db_).next_due_at()) {
            auto in = std::chrono::seconds(std::max<std::int64_t>(0, *next - db_.now()));
            // Rows due now while the server is down wait a little rather than spin.
            if (network_down_ && in.count() == 0) in = std::chrono::seconds(5);
            wait = std::min<std::chrono::milliseconds>(wait, in);
        }
    } catch (const store::Error& e) {
        spdlog::warn("event=outbox.read_failed temporary={} error=\"{}\"", e.temporary(), e.what());
    }
    timer_.expires_after(wait);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        network_down_ = false;
        pass();
    });
}

}  // namespace ticketd::daemon
