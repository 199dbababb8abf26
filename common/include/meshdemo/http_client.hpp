#pragma once

#include "meshdemo/http_types.hpp"
#include "meshdemo/url.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace meshdemo {

/** Why an outbound call got no HTTP answer. */
enum class call_failure { none, timeout, connection };

/** The outcome of one outbound call: an answer, or why there is none. */
struct call_result {
    call_failure failure = call_failure::none;
    std::string error;
    http_response response;

    bool answered() const { return failure == call_failure::none; }
};

/**
 * Represents a pool of keep-alive connections to one peer service, for one single-threaded
 * io_context.
 *
 * Each call has one deadline covering connect, write and read. A connection goes back to the
 * pool only after its whole answer was read and the peer keeps it open. A pooled connection
 * that fails before any answer (the peer closed it while idle) is retried once on a fresh
 * connection: connection hygiene for an idempotent GET, not an application retry.
 */
class http_client {
public:
    http_client(boost::asio::io_context& io, http_url peer, std::size_t max_idle_connections = 64);

    boost::asio::awaitable<call_result> get(std::string_view path, const header_list& headers,
                                            std::chrono::milliseconds timeout);

    /** Opens a TCP connection and closes it again: can the peer be reached at all? */
    boost::asio::awaitable<bool> reachable(std::chrono::milliseconds timeout);

    const http_url& peer() const { return peer_; }

private:
    boost::asio::awaitable<call_result> connect(beast::tcp_stream& stream,
                                                std::chrono::steady_clock::time_point deadline);

    boost::asio::io_context& io_;
    http_url peer_;
    std::size_t max_idle_;
    boost::asio::ip::tcp::resolver resolver_;
    std::vector<beast::tcp_stream> idle_;
};

} // namespace meshdemo
