#pragma once

#include "meshdemo/http_types.hpp"
#include "meshdemo/url.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <deque>
#include <memory>
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
 * At most max_connections calls are in flight at once; more wait for a free connection, so
 * connections are reused instead of opened and closed under load. Each call has one deadline
 * covering that wait, connect, write and read. A connection goes back to the pool only after
 * its whole answer was read and the peer keeps it open. A pooled connection that fails before
 * any answer (the peer closed it while idle) is retried once on a fresh connection: connection
 * hygiene for an idempotent GET, not an application retry.
 */
class http_client {
public:
    http_client(boost::asio::io_context& io, http_url peer, std::size_t max_connections = 64);

    boost::asio::awaitable<call_result> get(std::string_view path, const header_list& headers,
                                            std::chrono::milliseconds timeout);

    /** Opens a TCP connection and closes it again: can the peer be reached at all? */
    boost::asio::awaitable<bool> reachable(std::chrono::milliseconds timeout);

    const http_url& peer() const { return peer_; }

private:
    class connection_slot;
    /** A keep-alive connection with the buffers of its exchanges. Pooled by pointer: moving a
     * Beast stream allocates a new implementation object. */
    struct pooled_connection {
        explicit pooled_connection(boost::asio::io_context& io) : stream(io) {}
        beast::tcp_stream stream;
        beast::flat_buffer buffer; ///< what was read from the peer
        std::string head;          ///< the request head being sent
    };

    boost::asio::awaitable<call_result> connect(beast::tcp_stream& stream,
                                                std::chrono::steady_clock::time_point deadline);
    boost::asio::awaitable<call_result> exchange(std::string_view path, const header_list& headers,
                                                 std::chrono::steady_clock::time_point deadline);
    /** The request's start line and header fields as they go on the wire. */
    void write_head(std::string& out, std::string_view path, const header_list& headers) const;
    /** Waits for a free connection until deadline; false when none came in time. */
    boost::asio::awaitable<bool> acquire(std::chrono::steady_clock::time_point deadline);
    void release();

    boost::asio::io_context& io_;
    http_url peer_;
    /** Host and User-Agent, the same on every request. */
    std::string fixed_fields_;
    std::size_t max_connections_;
    std::size_t in_use_ = 0;
    /** A call waiting for a connection, woken by cancelling its timer. */
    struct waiter {
        boost::asio::steady_timer wake;
        bool queued = true; ///< still in waiting_
    };
    std::deque<waiter*> waiting_;
    boost::asio::ip::tcp::resolver resolver_;
    std::vector<std::unique_ptr<pooled_connection>> idle_;
};

} // namespace meshdemo
