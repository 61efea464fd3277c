#include "daemon/sla_timer.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>

#include "daemon/crash_points.h"
#include "store/database.h"
#include "tickets/sla.h"

namespace ticketd::daemon {

namespace {
// A wake-up far away is still re-checked after this long: the steady clock and the wall clock
// can drift apart (suspend, NTP steps), and the wall clock is what due times are in.
constexpr std::int64_t kLongestWait = 6 * 3600;
// After a temporary store error, try again this soon.
constexpr std::int64_t kRetryAfter = 30;
}  // namespace

SlaTimer::SlaTimer(boost::asio::io_context& loop, boost::asio::io_context& worker, store::Database& db,
                   std::shared_ptr<const config::Config> config, std::function<void()> on_queued)
    : loop_(loop), worker_(worker), db_(db), config_(std::move(config)), on_queued_(std::move(on_queued)),
      timer_(loop) {}

SlaTimer::~SlaTimer() { stopped_ = true; }

std::shared_ptr<const config::Config> SlaTimer::config() const {
    std::lock_guard lock(mutex_);
    return config_;
}

void SlaTimer::start() {
    started_ = true;
    boost::asio::post(worker_, [this] { rearm_on_worker(); });
}

void SlaTimer::set_config(std::shared_ptr<const config::Config> config) {
    {
        std::lock_guard lock(mutex_);
        config_ = std::move(config);
    }
    start();
}

void SlaTimer::stop() {
    stopped_ = true;
    boost::asio::post(loop_, [this] { timer_.cancel(); });
}

void SlaTimer::rearm_on_worker() {
    if (stopped_ || !started_) return;
    const auto cfg = config();
    std::optional<std::int64_t> wake;
    const std::int64_t now = db_.now();
    if (cfg && !cfg->sla.policies.empty()) {
        try {
            wake = tickets::next_sla_wakeup(db_);
        } catch (const store::Error& e) {
            spdlog::warn("event=sla.timer_query_failed temporary={} error=\"{}\"", e.temporary(), e.what());
            wake = now + kRetryAfter;
        }
    }
    boost::asio::post(loop_, [this, wake, now] { arm(wake, now); });
}

void SlaTimer::arm(std::optional<std::int64_t> wake, std::int64_t now) {
    if (stopped_) return;
    timer_.cancel();
    if (!wake) return;  // nothing to wait for: the next ingest batch re-arms
    // `now` is whole seconds of the wall clock, truncated: waiting wake - now seconds from here
    // ends at or after `wake`, never before it (no early wake-up that finds nothing due).
    const std::int64_t wait = std::clamp<std::int64_t>(*wake - now, 0, kLongestWait);
    timer_.expires_after(std::chrono::seconds(wait));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopped_) return;
        boost::asio::post(worker_, [this] { fire(); });
    });
}

void SlaTimer::fire() {
    if (stopped_) return;
    ++wakeups_;
    bool more = false;
    if (fire_chunk(more)) {
        // A large backlog (a desk that was down, sla: just enabled) goes in chunks, each handler
        // its own, so ingest batches queued on this thread interleave instead of waiting for all.
        if (more) return boost::asio::post(worker_, [this] { fire(); });
        return rearm_on_worker();
    }
    // The store was busy or failing: what is due stays due; try again a little later rather
    // than at once (that would spin).
    const std::int64_t now = db_.now();
    boost::asio::post(loop_, [this, now] { arm(now + kRetryAfter, now); });
}

bool SlaTimer::fire_now() {
    bool more = true;
    while (more && !stopped_)
        if (!fire_chunk(more)) return false;
    return true;
}

bool SlaTimer::fire_chunk(bool& more) {
    more = false;
    const auto cfg = config();
    if (!cfg || cfg->sla.policies.empty()) return true;
    try {
        const auto s = tickets::fire_due_sla(db_, *cfg, db_.now());
        more = s.more;
        if (s.tickets)
            spdlog::info("event=sla.fired tickets={} reminders={} escalations={} breaches={}", s.tickets,
                         s.reminders, s.escalations, s.breaches);
        if (s.reminders || s.escalations) crash_point("sla.queued");
        if ((s.reminders || s.escalations) && on_queued_) on_queued_();
        return true;
    } catch (const store::Error& e) {
        spdlog::warn("event=sla.fire_failed temporary={} error=\"{}\" action=retry", e.temporary(), e.what());
        return false;
    }
}

}  // namespace ticketd::daemon
