#pragma once
// The Prometheus endpoint: GET /metrics over HTTP/1.1 (Boost.Beast) on the daemon's own
// io_context, so a scrape never races the loop and needs no thread. Loopback by default
// (config `metrics.listen`); every request has a size limit and a deadline, and the number of
// open connections is capped, so a misbehaving client cannot take the daemon's loop down.

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ticketd::daemon {

class MetricsServer {
public:
    /// The body of GET /metrics, produced on the loop at each scrape.
    using Exposition = std::function<std::string()>;

    /// Binds and listens on host:port (an IP literal; port 0 picks a free one). Throws
    /// boost::system::system_error when the address cannot be bound (in use, not local).
    MetricsServer(boost::asio::io_context& io, const std::string& host, std::uint16_t port,
                  Exposition exposition);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// Start accepting (on the loop).
    void start();
    /// Stop accepting and close open connections; handlers in flight finish harmlessly.
    void stop();
    std::uint16_t port() const { return port_; }

    struct State;  ///< shared with the connections, so they may outlive the server

private:
    std::shared_ptr<State> state_;
    std::uint16_t port_ = 0;
};

}  // namespace ticketd::daemon
