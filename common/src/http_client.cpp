#include "meshdemo/http_client.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace meshdemo {

namespace {

call_result failed(const boost::system::error_code& ec, std::string_view during) {
    call_result result;
    result.failure = ec == beast::error::timeout ? call_failure::timeout : call_failure::connection;
    if (ec == http::error::body_limit) {
        result.failure = call_failure::too_large;
    }
    result.error = std::string(during) + ": " + ec.message();
    return result;
}

call_result failed(call_failure failure, std::string error) {
    call_result result;
    result.failure = failure;
    result.error = std::move(error);
    return result;
}

/** Whether an idle keep-alive connection can carry a request: the peer has neither closed it
 * (a pending EOF) nor sent anything unasked. Checked without blocking. */
bool still_open(asio::ip::tcp::socket& socket) {
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
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

http_client::http_client(asio::io_context& io, http_url peer, http_client_options options)
    : io_(io), peer_(std::move(peer)), options_(options),
      fixed_fields_("Host: " + peer_.authority() + "\r\nUser-Agent: servicemesh-demo\r\n"),
      connection_freed_(io.get_executor()), addresses_(io.get_executor(), peer_.host, peer_.port) {
    options_.max_connections = std::max<std::size_t>(options_.max_connections, 1);
}

http_client::~http_client() = default;

asio::awaitable<bool> http_client::acquire(std::chrono::steady_clock::time_point deadline) {
    if (in_use_ < options_.max_connections) {
        ++in_use_;
        co_return true;
    }
    co_return co_await connection_freed_.wait_until(deadline); // woken: handed a connection
}

void http_client::release() {
    if (!connection_freed_.notify_one()) {
        --in_use_; // nobody waits: the connection is free
    }
}

asio::awaitable<call_result> http_client::connect(deadline_stream& stream,
                                                  std::chrono::steady_clock::time_point deadline) {
    const address_lookup found = co_await addresses_.get(deadline);
    if (found.error == asio::error::timed_out) {
        co_return failed(call_failure::timeout, "resolve " + peer_.host + ": no answer in time");
    }
    if (found.error) {
        co_return failed(found.error, "resolve " + peer_.host);
    }
    stream.expires_at(deadline);
    auto [error, endpoint] =
        co_await asio::async_connect(stream.socket(), found.endpoints, use_nothrow);
    const auto connect_error = stream.failure(error);
    if (connect_error) {
        // Refused or unreachable: the peer may have moved (a restarted container), so look its
        // name up again next time. A timeout may only mean the call's budget was short.
        if (connect_error != beast::error::timeout) {
            addresses_.forget();
        }
        co_return failed(connect_error, "connect " + peer_.authority());
    }
    boost::system::error_code ignored;
    stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return call_result{};
}

asio::awaitable<call_result> http_client::get(std::string_view path, const header_list& headers,
                                              std::chrono::steady_clock::time_point deadline) {
    if (!co_await acquire(deadline)) {
        co_return failed(call_failure::timeout,
                         "no free connection to " + peer_.authority() + " in time");
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

std::unique_ptr<http_client::pooled_connection> http_client::take_idle() {
    const auto now = std::chrono::steady_clock::now();
    // The oldest sit at the bottom of the stack: close those past their lifetime, so that
    // connections the peer closes are not kept half-open for as long as the pool stays busy.
    const auto expired = std::find_if(idle_.begin(), idle_.end(), [&](const auto& link) {
        return now - link->idle_since < options_.idle_lifetime;
    });
    idle_.erase(idle_.begin(), expired);
    while (!idle_.empty()) {
        std::unique_ptr<pooled_connection> link = std::move(idle_.back());
        idle_.pop_back();
        if (now - link->idle_since < options_.idle_lifetime && still_open(link->stream.socket())) {
            return link;
        }
        // Closed by the peer, or about to be: dropped here, before a request could be lost on it.
    }
    return nullptr;
}

asio::awaitable<call_result> http_client::exchange(std::string_view path,
                                                   const header_list& headers,
                                                   std::chrono::steady_clock::time_point deadline) {
    std::unique_ptr<pooled_connection> link = take_idle();
    if (!link) {
        link = std::make_unique<pooled_connection>(io_);
        if (auto connected = co_await connect(link->stream, deadline); !connected.answered()) {
            co_return connected;
        }
    }
    auto& stream = link->stream;
    // An expired timer from the idle time would fail the next operation at once.
    stream.expires_at(deadline);
    write_head(link->head, path, headers);
    auto [write_error, written] =
        co_await asio::async_write(stream, asio::buffer(link->head), use_nothrow);
    if (write_error) {
        co_return failed(stream.failure(write_error), "send to " + peer_.authority());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_answer_bytes);
    auto [read_error, read] = co_await http::async_read(stream, link->buffer, parser, use_nothrow);
    if (read_error) {
        co_return failed(stream.failure(read_error), "read from " + peer_.authority());
    }
    // The parser's verdict, from flags it set while reading: the message's keep_alive() and
    // need_eof() would search the header fields again. False too when the body ends at EOF.
    const bool peer_keeps_it_open = parser.keep_alive();
    call_result result;
    result.response = parser.release();
    // Pooled with its buffers, so that the next call on it allocates none.
    if (peer_keeps_it_open && !stream.timed_out() && link->buffer.size() == 0 &&
        idle_.size() < options_.max_connections) {
        stream.expires_never();
        link->idle_since = std::chrono::steady_clock::now();
        idle_.push_back(std::move(link));
    }
    co_return result;
}

} // namespace meshdemo
