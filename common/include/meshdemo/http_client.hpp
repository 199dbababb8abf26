#pragma once

#include "meshdemo/async_event.hpp"
#include "meshdemo/deadline_stream.hpp"
#include "meshdemo/host_addresses.hpp"
#include "meshdemo/http_types.hpp"
#include "meshdemo/url.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace meshdemo {

/** Why an outbound call got no usable HTTP answer. */
enum class call_failure { none, timeout, connection, too_large };

/** The outcome of one outbound call: an answer, or why there is none. */
struct call_result {
    call_failure failure = call_failure::none;
    std::string error;
    http_response response;

    bool answered() const { return failure == call_failure::none; }
};

/** How an http_client may use its peer. */
struct http_client_options {
    std::size_t max_connections = 64;               ///< calls in flight at once; more wait
    std::size_t max_answer_bytes = 8 * 1024 * 1024; ///< a larger answer body fails the call
    /** A connection idle longer than this is closed, not reused: shorter than the servers'
     * IDLE_TIMEOUT_MS, so that the peer never closes a connection we are about to use. */
    std::chrono::milliseconds idle_lifetime{30000};
};

/**
 * Represents a pool of keep-alive connections to one peer service, for one single-threaded
 * io_context.
 *
 * At most max_connections calls are in flight at once; more wait for a free connection, so
 * connections are reused instead of opened and closed under load. Each call has one deadline
 * covering that wait, name resolution, connect, write and read. The peer's addresses are looked
 * up once and shared by all calls (one lookup in flight at a time), and looked up again after a
 * failed connect. A connection goes back to the pool only after its whole answer was read and
 * the peer keeps it open; before reuse it is checked for a close by the peer. A request is never
 * sent twice: a retry would hide the very failures a mesh is meant to handle.
 */
class http_client {
public:
    http_client(boost::asio::io_context& io, http_url peer, http_client_options options = {});
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    boost::asio::awaitable<call_result> get(std::string_view path, const header_list& headers,
                                            std::chrono::steady_clock::time_point deadline);
    boost::asio::awaitable<call_result> get(std::string_view path, const header_list& headers,
                                            std::chrono::milliseconds timeout) {
        return get(path, headers, std::chrono::steady_clock::now() + timeout);
    }

    const http_url& peer() const { return peer_; }

private:
    class connection_slot;
    /** A keep-alive connection with the buffers of its exchanges. Pooled by pointer: moving a
     * Beast stream allocates a new implementation object. */
    struct pooled_connection {
        // Each call's deadline lies further ahead than the last one's: no shorter sleep needed.
        explicit pooled_connection(boost::asio::io_context& io)
            : stream(io.get_executor(), deadline_stream::clock::duration::max()) {}
        deadline_stream stream;
        beast::flat_buffer buffer; ///< what was read from the peer
        std::string head;          ///< the request head being sent
        std::chrono::steady_clock::time_point idle_since;
    };

    boost::asio::awaitable<call_result> connect(deadline_stream& stream,
                                                std::chrono::steady_clock::time_point deadline);
    boost::asio::awaitable<call_result> exchange(std::string_view path, const header_list& headers,
                                                 std::chrono::steady_clock::time_point deadline);
    /** An idle connection that may carry a request, or none. */
    std::unique_ptr<pooled_connection> take_idle();
    /** The request's start line and header fields as they go on the wire. */
    void write_head(std::string& out, std::string_view path, const header_list& headers) const;
    /** Waits for a free connection until deadline; false when none came in time. */
    boost::asio::awaitable<bool> acquire(std::chrono::steady_clock::time_point deadline);
    void release();

    boost::asio::io_context& io_;
    http_url peer_;
    http_client_options options_;
    /** Host and User-Agent, the same on every request. */
    std::string fixed_fields_;
    std::size_t in_use_ = 0;
    /** Calls waiting for a connection; release() hands its connection to the first of them. */
    async_event connection_freed_;
    host_addresses addresses_;
    std::vector<std::unique_ptr<pooled_connection>> idle_;
};

} // namespace meshdemo
