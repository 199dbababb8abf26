#pragma once

#include "meshdemo/http_types.hpp"
#include "meshdemo/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace meshdemo {

class deadline_stream;

/** What one connection may cost the server: sizes, times and how many at once. */
struct server_limits {
    std::size_t header_bytes = 16 * 1024;           ///< larger request heads get 431
    std::size_t body_bytes = 64 * 1024;             ///< larger request bodies get 413
    std::chrono::milliseconds idle_timeout{120000}; ///< keep-alive wait for a request's first byte
    std::chrono::milliseconds read_timeout{
        10000};                          ///< to read the rest of a request, or write an answer
    std::size_t max_connections = 10000; ///< beyond this, new connections get 503
};

/**
 * Represents an HTTP/1.1 server on one port whose connections are spread over worker threads.
 *
 * One acceptor hands each connection to the next worker's io_context; there a coroutine reads
 * requests (with size limits and timeouts), calls that worker's handler, and writes answers,
 * keeping the connection alive between requests. Every request is logged and counted.
 */
class http_server {
public:
    struct options {
        std::string name; ///< "main" or "admin", for logs
        server_limits limits;
        http_server_metrics* metrics = nullptr; ///< requests are counted here when set
        bool log_requests_at_info = true;       ///< admin probes log at debug instead
    };

    http_server(std::vector<boost::asio::io_context*> workers,
                std::vector<request_handler> handlers, options settings);
    ~http_server();

    /** Binds the port on address (empty: every IPv4 and IPv6 address); throws
     * boost::system::system_error when it cannot. */
    void listen(const std::string& address, std::uint16_t port);
    /** Starts accepting connections. */
    void start();
    /** Stops accepting; connections already open are served until they close. */
    void stop_accepting();
    /** From now on answers carry Connection: close, and idle keep-alive connections close. */
    void close_idle_connections();
    std::size_t active_connections() const { return active_->load(); }

private:
    struct worker_state;

    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                                  std::size_t worker);
    boost::asio::awaitable<void> refuse_connection(boost::asio::ip::tcp::socket socket);
    /** head: the connection's buffer for answer heads (see async_write_response). */
    boost::asio::awaitable<bool> answer(deadline_stream& stream, http_request& request,
                                        bool client_keeps_it_open, std::size_t worker,
                                        std::string& head);
    boost::asio::awaitable<void> answer_unreadable(deadline_stream& stream,
                                                   const boost::system::error_code& ec,
                                                   std::string& head);
    /** After an error answer: closes the connection without losing that answer to a reset. */
    static boost::asio::awaitable<void> linger(deadline_stream& stream,
                                               std::chrono::milliseconds linger_time);
    void record(const http_request* request, const request_context& context, unsigned status,
                std::chrono::steady_clock::time_point started);

    std::vector<boost::asio::io_context*> workers_;
    std::vector<request_handler> handlers_;
    options options_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::vector<std::unique_ptr<worker_state>> worker_states_;
    std::shared_ptr<std::atomic<std::size_t>> active_;
    std::atomic<bool> closing_{false};
    std::size_t next_worker_ = 0;
};

} // namespace meshdemo
