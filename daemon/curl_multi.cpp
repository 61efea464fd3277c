#include "daemon/curl_multi.h"

#include <poll.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <vector>

namespace ticketd::daemon {

namespace asio = boost::asio;

namespace {
constexpr long kLogoutTimeoutSeconds = 2;
}  // namespace

/// One socket libcurl asked us to watch. The descriptor does not own the fd: libcurl closes it,
/// after telling us with CURL_POLL_REMOVE, where we release() it.
struct CurlMulti::Socket {
    Socket(asio::io_context& io, curl_socket_t fd) : fd(fd), sd(io, fd) {}
    curl_socket_t fd;
    asio::posix::stream_descriptor sd;
    CURL* easy = nullptr;  ///< the transfer libcurl last watched it for
    int what = 0;  ///< CURL_POLL_IN / OUT / INOUT
    bool reading = false, writing = false;
    bool removed = false;
};

CurlMulti::CurlMulti(asio::io_context& io)
    : io_(io), multi_(curl_multi_init()), timer_(io), alive_(std::make_shared<CurlMulti*>(this)) {
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti() {
    alive_.reset();
    for (auto& [easy, done] : done_) {
        cut(easy);
        curl_multi_remove_handle(multi_, easy);
    }
    done_.clear();
    // curl_multi_cleanup logs out of every pooled connection and waits for the answer, blocking
    // the loop. The wait is bounded only by the server response timeout, which libcurl copies
    // from the most recently added handle (default 120 s). Adding a handle that carries a short
    // one bounds the wait for a server that stops answering at LOGOUT.
    if (CURL* bound = curl_easy_init()) {
        curl_easy_setopt(bound, CURLOPT_SERVER_RESPONSE_TIMEOUT, kLogoutTimeoutSeconds);
        curl_easy_setopt(bound, CURLOPT_TIMEOUT, kLogoutTimeoutSeconds);
        curl_easy_setopt(bound, CURLOPT_NOSIGNAL, 1L);
        if (curl_multi_add_handle(multi_, bound) == CURLM_OK) curl_multi_remove_handle(multi_, bound);
        curl_easy_cleanup(bound);
    }
    curl_multi_cleanup(multi_);  // may still call on_socket(REMOVE): sockets_ is still here
    for (auto& [fd, sock] : sockets_) {
        sock->removed = true;
        sock->sd.release();
    }
}

void CurlMulti::add(CURL* easy, Done done) {
    done_[easy] = std::move(done);
    CURLMcode rc = curl_multi_add_handle(multi_, easy);
    if (rc != CURLM_OK) {
        done_.erase(easy);
        throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
    }
    // libcurl asks for a 0 ms timeout through on_timer to kick the transfer off.
}

void CurlMulti::remove(CURL* easy) {
    if (!done_.erase(easy)) return;
    cut(easy);
    curl_multi_remove_handle(multi_, easy);
    settle_later();
}

void CurlMulti::cut(CURL* easy) {
    // Removing a transfer runs the protocol's "done" step, and libcurl's SMTP one (7.88, and
    // 8.x) sends the end of data (".") even for an upload stopped half-way: the server would
    // take a truncated mail, and the row, still queued, would go again in full. Shutting the
    // connection down first makes it what a crash makes it, a dropped connection, which a
    // server discards; libcurl was going to close that connection anyway.
    for (auto& [fd, sock] : sockets_)
        if (sock->easy == easy && !sock->removed) ::shutdown(fd, SHUT_RDWR);
}

int CurlMulti::on_socket(CURL* easy, curl_socket_t s, int what, void* self_ptr, void*) {
    auto* self = static_cast<CurlMulti*>(self_ptr);
    auto it = self->sockets_.find(s);
    if (what == CURL_POLL_REMOVE) {
        if (it != self->sockets_.end()) {
            it->second->removed = true;
            // release(), not close(): libcurl closes the fd right after this callback.
            it->second->sd.release();
            self->sockets_.erase(it);
        }
        return 0;
    }
    if (it == self->sockets_.end()) {
        it = self->sockets_.emplace(s, std::make_shared<Socket>(self->io_, s)).first;
    }
    it->second->what = what;
    it->second->easy = easy;
    self->watch(it->second);
    return 0;
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    static_cast<CurlMulti*>(self_ptr)->set_deadline(timeout_ms);
    return 0;
}

void CurlMulti::set_deadline(long timeout_ms) {
    // libcurl moves its timeout at least twice per transfer (0 ms to start it, then the
    // transfer's timeout, then none), and each move of an Asio timer is a timerfd_settime and a
    // cancelled wait: about 5% of the outbox sender's CPU (perf, 2026-12-06). So a new timeout
    // only replaces deadline_; the timer is moved only when it must fire earlier, and when it
    // fires before deadline_ (or with none left) it is set again (or not) instead of calling
    // libcurl early, which might then never repeat the timeout it already gave us.
    if (timeout_ms < 0) {
        deadline_.reset();
        return;
    }
    if (timeout_ms == 0) {
        // Even a 0 ms timeout goes through the loop (socket_action must not be called from inside
        // this callback), but as a post: no timer at all.
        deadline_.reset();
        if (kick_posted_) return;
        kick_posted_ = true;
        std::weak_ptr<CurlMulti*> alive = alive_;
        asio::post(io_, [alive] {
            auto a = alive.lock();
            if (!a) return;
            (*a)->kick_posted_ = false;
            (*a)->action(CURL_SOCKET_TIMEOUT, 0);
        });
        return;
    }
    const auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    deadline_ = when;
    if (!timer_armed_ || timer_.expiry() > when) arm(when);
}

void CurlMulti::arm(std::chrono::steady_clock::time_point when) {
    timer_armed_ = true;
    timer_.expires_at(when);
    std::weak_ptr<CurlMulti*> alive = alive_;
    timer_.async_wait([alive](const boost::system::error_code& ec) {
        auto a = alive.lock();
        if (!a || ec) return;  // cancelled: arm() set a new wait, which owns timer_armed_
        CurlMulti& self = **a;
        self.timer_armed_ = false;
        if (!self.deadline_) return;
        if (std::chrono::steady_clock::now() < *self.deadline_) return self.arm(*self.deadline_);
        self.deadline_.reset();
        self.action(CURL_SOCKET_TIMEOUT, 0);
    });
}

void CurlMulti::watch(const std::shared_ptr<Socket>& sock) {
    std::weak_ptr<CurlMulti*> alive = alive_;
    std::weak_ptr<Socket> weak = sock;
    auto handler = [alive, weak](bool read) {
        return [alive, weak, read](const boost::system::error_code& ec) {
            auto a = alive.lock();
            auto s = weak.lock();
            if (!a || !s || s->removed) return;
            (read ? s->reading : s->writing) = false;
            if (ec == asio::error::operation_aborted) return;
            int events = ec ? CURL_CSELECT_ERR : (read ? CURL_CSELECT_IN : CURL_CSELECT_OUT);
            (*a)->action(s->fd, events);
            // Still wanted (libcurl did not say REMOVE or change interest): wait again.
            if (!s->removed) (*a)->watch(s);
        };
    };
    // Asio's epoll reactor is edge-triggered and its async_wait never checks readiness first.
    // libcurl may leave bytes in a socket it wants read again (it caps reads per call), and that
    // edge is already spent: so look with a zero-timeout poll() and go straight on when ready.
    auto ready = [&](short events) {
        pollfd p{sock->fd, events, 0};
        return ::poll(&p, 1, 0) > 0 && p.revents != 0;
    };
    if ((sock->what & CURL_POLL_IN) && !sock->reading) {
        sock->reading = true;
        if (ready(POLLIN))
            asio::post(io_, [h = handler(true)] { h({}); });
        else
            sock->sd.async_wait(asio::posix::stream_descriptor::wait_read, handler(true));
    }
    if ((sock->what & CURL_POLL_OUT) && !sock->writing) {
        sock->writing = true;
        if (ready(POLLOUT))
            asio::post(io_, [h = handler(false)] { h({}); });
        else
            sock->sd.async_wait(asio::posix::stream_descriptor::wait_write, handler(false));
    }
}

void CurlMulti::action(curl_socket_t s, int events) {
    int running = 0;
    CURLMcode rc = curl_multi_socket_action(multi_, s, events, &running);
    if (rc != CURLM_OK) spdlog::error("event=curl.multi_error error=\"{}\"", curl_multi_strerror(rc));
    collect_done();
}

void CurlMulti::collect_done() {
    int left = 0;
    std::vector<std::pair<CURL*, CURLcode>> finished;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg == CURLMSG_DONE) finished.emplace_back(msg->easy_handle, msg->data.result);
    }
    for (auto [easy, code] : finished) {
        curl_multi_remove_handle(multi_, easy);
        auto it = done_.find(easy);
        if (it == done_.end()) continue;
        Done done = std::move(it->second);
        done_.erase(it);
        // Posted: the callback may add or free handles, which must not happen in here.
        // (code = code: clang 14 cannot capture a structured binding.)
        asio::post(io_, [done = std::move(done), code = code] { done(code); });
    }
    if (!finished.empty()) settle_later();
}

void CurlMulti::settle_later() {
    // The lazy timer (set_deadline) may still wait for a deadline libcurl has dropped; with no
    // transfer left, that wait alone would keep io_context::run() from returning (`run --once`,
    // a flush) until it expired. Looked at after the callbacks just posted, which usually start
    // the next transfer: between two mails the timer stays as it is.
    std::weak_ptr<CurlMulti*> alive = alive_;
    asio::post(io_, [alive] {
        auto a = alive.lock();
        if (!a) return;
        CurlMulti& self = **a;
        if (self.done_.empty() && !self.deadline_ && self.timer_armed_) {
            self.timer_armed_ = false;
            self.timer_.cancel();
        }
    });
}

}  // namespace ticketd::daemon
