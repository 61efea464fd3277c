#pragma once
// libcurl's multi socket interface driven by an Asio io_context: libcurl says which sockets it
// wants watched (CURLMOPT_SOCKETFUNCTION) and when it wants a timeout (CURLMOPT_TIMERFUNCTION);
// Asio waits for exactly that and calls curl_multi_socket_action. No transfer ever blocks the
// loop, and many run at once on one thread.

#include <curl/curl.h>

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

namespace ticketd::daemon {

class CurlMulti {
public:
    using Done = std::function<void(CURLcode)>;

    explicit CurlMulti(boost::asio::io_context& io);
    /// Transfers still running are abandoned: their callbacks are never called.
    ~CurlMulti();
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    /// Start `easy`; `done` runs on the loop (posted, never inside a libcurl callback) with the
    /// transfer's result. `easy` must stay alive until then or until remove().
    void add(CURL* easy, Done done);
    /// Abort a transfer; its callback is not called. Its connection is shut down first, so
    /// nothing more goes out on it (an SMTP upload cut short is never completed: see cut()).
    void remove(CURL* easy);
    /// Let libcurl start what add() queued now, instead of at the loop's next turn: the first
    /// command goes out before the caller's next blocking step (the outbox sender's commit).
    void start_now() { action(CURL_SOCKET_TIMEOUT, 0); }
    std::size_t running() const { return done_.size(); }

    /// The same as add() for any Asio completion token (use_awaitable in coroutines).
    template <class Token>
    auto async_perform(CURL* easy, Token&& token) {
        return boost::asio::async_initiate<Token, void(CURLcode)>(
            [this, easy](auto handler) {
                // Asio handlers are move-only; Done is a std::function, so share it.
                auto h = std::make_shared<decltype(handler)>(std::move(handler));
                add(easy, [h](CURLcode code) { (*h)(code); });
            },
            token);
    }

private:
    struct Socket;
    static int on_socket(CURL* easy, curl_socket_t s, int what, void* self, void* socketp);
    static int on_timer(CURLM* multi, long timeout_ms, void* self);
    void watch(const std::shared_ptr<Socket>& sock);
    void action(curl_socket_t s, int events);
    void collect_done();
    /// Shut down the sockets of `easy`'s transfer before it is removed.
    void cut(CURL* easy);
    /// Soon: drop the timer's wait when no transfer is left and libcurl wants no timeout.
    void settle_later();
    /// libcurl's timeout as a deadline; see on_timer for why the Asio timer lags behind it.
    void set_deadline(long timeout_ms);
    void arm(std::chrono::steady_clock::time_point when);

    boost::asio::io_context& io_;
    CURLM* multi_;
    boost::asio::steady_timer timer_;
    /// When libcurl wants socket_action(TIMEOUT) (none: it wants no timeout).
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    bool timer_armed_ = false;  ///< timer_ has a wait pending, for timer_.expiry()
    bool kick_posted_ = false;  ///< a 0 ms timeout is already posted to the loop
    std::map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
    std::map<CURL*, Done> done_;
    /// Handlers hold a weak_ptr to this: a handler that runs after destruction does nothing.
    std::shared_ptr<CurlMulti*> alive_;
};

}  // namespace ticketd::daemon
