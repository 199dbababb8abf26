#include "meshdemo/http_client.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>

namespace meshdemo {

namespace {

constexpr std::size_t max_answer_bytes = 8 * 1024 * 1024;

call_result failed(const boost::system::error_code& ec, std::string_view during) {
    call_result result;
    result.failure = ec == beast::error::timeout ? call_failure::timeout : call_failure::connection;
    result.error = std::string(during) + ": " + ec.message();
    return result;
}

} // namespace

/** Holds one of the client's connections for as long as a call lives. */
class http_client::connection_slot {
public:
    explicit connection_slot(http_client& client) : client_(client) {}
    ~connection_slot() { client_.release(); }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;

private:
    http_client& client_;
};

http_client::http_client(asio::io_context& io, http_url peer, std::size_t max_connections)
    : io_(io), peer_(std::move(peer)),
      fixed_fields_("Host: " + peer_.authority() + "\r\nUser-Agent: servicemesh-demo\r\n"),
      max_connections_(std::max<std::size_t>(max_connections, 1)), resolver_(io) {}

asio::awaitable<bool> http_client::acquire(std::chrono::steady_clock::time_point deadline) {
    if (in_use_ < max_connections_) {
        ++in_use_;
        co_return true;
    }
    waiter self{asio::steady_timer(io_, deadline)};
    waiting_.push_back(&self);
    // However the wait ends (deadline, or the coroutine destroyed at shutdown), this waiter must
    // not stay in the queue. release() takes a waiter out itself, so that the common case costs
    // no search through a queue that may hold a thousand waiters.
    struct leave_queue {
        std::deque<waiter*>& queue;
        waiter& self;
        ~leave_queue() {
            if (self.queued) {
                queue.erase(std::find(queue.begin(), queue.end(), &self));
            }
        }
    } const in_queue{waiting_, self};
    auto [ec] = co_await self.wake.async_wait(use_nothrow);
    co_return ec == asio::error::operation_aborted; // aborted: release() handed us its connection
}

void http_client::release() {
    while (!waiting_.empty()) {
        waiter* next = waiting_.front();
        waiting_.pop_front();
        next->queued = false;
        if (next->wake.cancel() > 0) {
            return; // handed over: in_use_ stays as it is
        }
        // That waiter's deadline passed already; its wake-up is on the way: try the next one.
    }
    --in_use_;
}

asio::awaitable<call_result> http_client::connect(beast::tcp_stream& stream,
                                                  std::chrono::steady_clock::time_point deadline) {
    // Resolved per new connection, so that a peer that moved (a restarted container) is found.
    auto [resolve_error, endpoints] =
        co_await resolver_.async_resolve(peer_.host, std::to_string(peer_.port), use_nothrow);
    if (resolve_error) {
        co_return failed(resolve_error, "resolve " + peer_.host);
    }
    stream.expires_at(deadline);
    // use_awaitable: Beast's ranged connect does not take a deferred token.
    auto [connect_error, endpoint] =
        co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (connect_error) {
        co_return failed(connect_error, "connect " + peer_.authority());
    }
    stream.socket().set_option(asio::ip::tcp::no_delay(true));
    co_return call_result{};
}

asio::awaitable<call_result> http_client::get(std::string_view path, const header_list& headers,
                                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!co_await acquire(deadline)) {
        call_result waited;
        waited.failure = call_failure::timeout;
        waited.error = "no free connection to " + peer_.authority() + " in time";
        co_return waited;
    }
    const connection_slot slot(*this);
    co_return co_await exchange(path, headers, deadline);
}

void http_client::write_head(std::string& out, std::string_view path,
                             const header_list& headers) const {
    out.clear();
    out.append("GET ").append(peer_.base_path).append(path).append(" HTTP/1.1\r\n");
    out.append(fixed_fields_);
    for (const auto& [name, value] : headers) {
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out.append("\r\n");
}

asio::awaitable<call_result> http_client::exchange(std::string_view path,
                                                   const header_list& headers,
                                                   std::chrono::steady_clock::time_point deadline) {
    for (int attempt = 0;; ++attempt) {
        const bool pooled = !idle_.empty() && attempt == 0;
        std::unique_ptr<pooled_connection> link;
        if (pooled) {
            link = std::move(idle_.back());
            idle_.pop_back();
        } else {
            link = std::make_unique<pooled_connection>(io_);
        }
        auto& stream = link->stream;
        if (!pooled) {
            auto connected = co_await connect(stream, deadline);
            if (!connected.answered()) {
                co_return connected;
            }
        }
        // An expired timer from the idle time would fail the next operation at once.
        stream.expires_at(deadline);
        write_head(link->head, path, headers);
        auto [write_error, written] =
            co_await asio::async_write(stream, asio::buffer(link->head), use_nothrow);
        if (write_error) {
            if (pooled && write_error != beast::error::timeout) {
                continue;
            }
            co_return failed(write_error, "send to " + peer_.authority());
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_answer_bytes);
        auto [read_error, read] =
            co_await http::async_read(stream, link->buffer, parser, use_nothrow);
        if (read_error) {
            const bool nothing_came = read == 0 && (read_error == http::error::end_of_stream ||
                                                    read_error == asio::error::connection_reset ||
                                                    read_error == asio::error::eof);
            if (pooled && nothing_came) {
                continue;
            }
            co_return failed(read_error, "read from " + peer_.authority());
        }
        call_result result;
        result.response = parser.release();
        // Pooled with its buffers, so that the next call on it allocates none.
        if (result.response.keep_alive() && !result.response.need_eof() &&
            link->buffer.size() == 0 && idle_.size() < max_connections_) {
            stream.expires_never();
            idle_.push_back(std::move(link));
        }
        co_return result;
    }
}

asio::awaitable<bool> http_client::reachable(std::chrono::milliseconds timeout) {
    beast::tcp_stream stream(io_);
    auto result = co_await connect(stream, std::chrono::steady_clock::now() + timeout);
    co_return result.answered();
}

} // namespace meshdemo
