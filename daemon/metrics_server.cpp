#include "daemon/metrics_server.h"

// Boost 1.74's coroutine frames trip GCC 12's -Wmismatched-new-delete (see poller.cpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <list>

namespace ticketd::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr std::size_t kMaxConnections = 16;      // Prometheus holds one; a few for curl and humans
constexpr std::size_t kHeaderLimit = 8 * 1024;   // a scrape request is a few hundred bytes
constexpr auto kRequestDeadline = std::chrono::seconds(10);

}  // namespace

struct MetricsServer::State {
    State(asio::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
    Exposition exposition;
    bool stopped = false;
    std::list<tcp::socket*> open;  ///< connections to close on stop()
};

namespace {

http::response<http::string_body> respond(const http::request<http::empty_body>& req,
                                          const MetricsServer::Exposition& exposition) {
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "ticketd");
    const auto target = req.target();
    const bool is_metrics = target == "/metrics" || target.starts_with("/metrics?");
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "only GET and HEAD\n";
    } else if (is_metrics) {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = exposition();
    } else if (target == "/") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "ticketd: Prometheus metrics at /metrics\n";
    } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "not found; metrics are at /metrics\n";
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();  // Content-Length stays that of GET
    return res;
}

asio::awaitable<void> session(std::shared_ptr<MetricsServer::State> state, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    auto it = state->open.insert(state->open.end(), &stream.socket());
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
        http::request_parser<http::empty_body> parser;
        parser.header_limit(kHeaderLimit);
        stream.expires_after(kRequestDeadline);
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;  // closed, timed out, or not HTTP: nothing to answer
        auto res = respond(parser.get(), state->exposition);
        stream.expires_after(kRequestDeadline);
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !res.keep_alive() || state->stopped) break;
    }
    state->open.erase(it);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept_loop(std::shared_ptr<MetricsServer::State> state) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await state->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (state->stopped) co_return;
        if (ec) {
            // EMFILE and the like: pause rather than spin; the next scrape retries.
            spdlog::warn("event=metrics.accept_failed error=\"{}\"", ec.message());
            asio::steady_timer pause(state->acceptor.get_executor(), std::chrono::seconds(1));
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (state->stopped) co_return;
            continue;
        }
        if (state->open.size() >= kMaxConnections) {
            socket.close(ec);  // over the cap: refuse rather than queue
            continue;
        }
        asio::co_spawn(state->acceptor.get_executor(), session(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, const std::string& host, std::uint16_t port,
                             Exposition exposition)
    : state_(std::make_shared<State>(io)) {
    state_->exposition = std::move(exposition);
    tcp::endpoint endpoint(asio::ip::make_address(host), port);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() { asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_), asio::detached); }

void MetricsServer::stop() {
    if (state_->stopped) return;
    state_->stopped = true;
    boost::system::error_code ec;
    state_->acceptor.close(ec);
    for (auto* s : state_->open) s->cancel(ec);
}

}  // namespace ticketd::daemon
