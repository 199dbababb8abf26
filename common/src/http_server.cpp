#include "meshdemo/http_server.hpp"

#include "meshdemo/async.hpp"
#include "meshdemo/deadline_stream.hpp"
#include "meshdemo/http_responses.hpp"
#include "meshdemo/logging.hpp"
#include "meshdemo/response_writer.hpp"
#include "meshdemo/trace_context.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <unordered_set>

namespace meshdemo {

namespace {

using steady_clock = std::chrono::steady_clock;

/** Counts a connection as active for as long as it lives. */
class active_connection {
public:
    explicit active_connection(std::shared_ptr<std::atomic<std::size_t>> count)
        : count_(std::move(count)) {}
    ~active_connection() { count_->fetch_sub(1); }
    active_connection(const active_connection&) = delete;
    active_connection& operator=(const active_connection&) = delete;

private:
    std::shared_ptr<std::atomic<std::size_t>> count_;
};

bool is_quiet_close(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
           ec == beast::error::timeout || ec == asio::error::broken_pipe ||
           ec == http::error::partial_message;
}

} // namespace

/** The idle connections of one worker, so that shutdown can close them. Touched only on that
 * worker's thread. */
struct http_server::worker_state {
    std::unordered_set<deadline_stream*> idle;
};

http_server::http_server(std::vector<asio::io_context*> workers,
                         std::vector<request_handler> handlers, options settings)
    : workers_(std::move(workers)), handlers_(std::move(handlers)), options_(std::move(settings)),
      acceptor_(*workers_.front()), active_(std::make_shared<std::atomic<std::size_t>>(0)) {
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        worker_states_.push_back(std::make_unique<worker_state>());
    }
}

http_server::~http_server() = default;

void http_server::listen(const std::string& address, std::uint16_t port) {
    asio::ip::tcp::endpoint endpoint{asio::ip::tcp::v6(), port};
    boost::system::error_code ec;
    if (!address.empty()) {
        endpoint.address(asio::ip::make_address(address));
        acceptor_.open(endpoint.protocol());
    } else if (acceptor_.open(endpoint.protocol(), ec); !ec) {
        acceptor_.set_option(asio::ip::v6_only(false)); // IPv4 and IPv6 on one socket
    } else {
        endpoint = asio::ip::tcp::endpoint{asio::ip::tcp::v4(), port}; // a host without IPv6
        acceptor_.open(endpoint.protocol());
    }
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

void http_server::start() {
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void http_server::stop_accepting() {
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
}

void http_server::close_idle_connections() {
    closing_ = true;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        asio::post(*workers_[i], [state = worker_states_[i].get()] {
            for (auto* stream : state->idle) {
                boost::system::error_code ignored;
                stream->socket().cancel(ignored);
            }
        });
    }
}

asio::awaitable<void> http_server::accept_loop() {
    asio::steady_timer pause(acceptor_.get_executor());
    while (acceptor_.is_open()) {
        const std::size_t worker = next_worker_++ % workers_.size();
        auto [ec, socket] = co_await acceptor_.async_accept(*workers_[worker], use_nothrow);
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
            co_return;
        }
        if (ec) {
            // Out of file descriptors or similar: wait for connections to close instead of
            // spinning.
            log_line("accept failed")
                .add("server", options_.name)
                .add("error", ec.message())
                .write(spdlog::level::warn);
            pause.expires_after(std::chrono::milliseconds(50));
            co_await pause.async_wait(use_nothrow);
            continue;
        }
        boost::system::error_code ignored;
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        if (active_->fetch_add(1) >= options_.limits.max_connections) {
            active_->fetch_sub(1);
            asio::co_spawn(*workers_[worker], refuse_connection(std::move(socket)), asio::detached);
            continue;
        }
        asio::co_spawn(*workers_[worker], serve_connection(std::move(socket), worker),
                       asio::detached);
    }
}

asio::awaitable<void> http_server::refuse_connection(asio::ip::tcp::socket socket) {
    deadline_stream stream(std::move(socket), std::chrono::seconds(1));
    stream.expires_after(std::chrono::seconds(1));
    http_response response{http::status::service_unavailable, 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::retry_after, "1");
    response.body() = R"({"error":"too many connections"})";
    response.keep_alive(false);
    response.prepare_payload();
    std::string head;
    co_await async_write_response(stream, response, head);
    // The request is still unread: a plain close would reset the 503 away. Briefly, though:
    // this is the path of a server that has too many connections already.
    co_await linger(stream, std::chrono::milliseconds(500));
}

asio::awaitable<void> http_server::serve_connection(asio::ip::tcp::socket socket,
                                                    std::size_t worker) {
    const active_connection counted(active_);
    const auto& limits = options_.limits;
    // The connection's deadlines are all at least the read timeout away, but for the lingering
    // close on its way out: so setting one costs no timer operation.
    deadline_stream stream(std::move(socket), limits.read_timeout);
    beast::flat_buffer buffer;
    std::string head;
    auto& idle = worker_states_[worker]->idle;

    while (!closing_) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
        parser.body_limit(limits.body_bytes);

        if (buffer.size() == 0) {
            // Waiting for the next request: the long keep-alive timeout applies, and shutdown
            // may close the connection here, where no request can be lost.
            stream.expires_after(limits.idle_timeout);
            idle.insert(&stream);
            if (closing_) { // shutdown began after the loop condition was checked
                idle.erase(&stream);
                break;
            }
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
            idle.erase(&stream);
            if (ec) {
                break;
            }
            buffer.commit(n);
        }
        // The rest of the request must come within the read timeout: a slow drip is cut off.
        stream.expires_after(limits.read_timeout);
        auto [error, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        if (const auto ec = stream.failure(error)) {
            if (!is_quiet_close(ec)) {
                co_await answer_unreadable(stream, ec, head);
                co_await linger(stream, std::chrono::seconds(2));
            }
            break;
        }
        // A Transfer-Encoding whose last coding is not chunked leaves the body's end unknown
        // (RFC 9112 6.3): Beast would read it as no body and the rest as the next request.
        if (parser.get().count(http::field::transfer_encoding) > 0 && !parser.chunked()) {
            co_await answer_unreadable(stream, http::error::bad_transfer_encoding, head);
            co_await linger(stream, std::chrono::seconds(2));
            break;
        }
        // The handler's time is its own budget's business, not the connection's.
        stream.expires_never();
        const bool client_keeps_it_open = parser.keep_alive(); // no search of the fields
        http_request request = parser.release();
        if (!co_await answer(stream, request, client_keeps_it_open, worker, head)) {
            break;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

asio::awaitable<bool> http_server::answer(deadline_stream& stream, http_request& request,
                                          bool client_keeps_it_open, std::size_t worker,
                                          std::string& head) {
    const auto started = steady_clock::now();
    request_context context;
    read_trace_context(request, context);

    http_response response;
    try {
        response = co_await handlers_[worker](request, context);
    } catch (const std::exception& error) {
        log_line("handler failed")
            .add("request_id", context.request_id)
            .add("error", error.what())
            .write(spdlog::level::err);
        response = json_error(request, http::status::internal_server_error, "internal error");
    }
    if (context.drop_connection) {
        record(&request, context, 0, started);
        co_return false;
    }
    const bool keep_alive = client_keeps_it_open && !closing_;
    response.set("x-request-id", context.request_id);
    response.keep_alive(keep_alive);
    if (request.method() == http::verb::head) {
        response.content_length(response.body().size());
        response.body().clear();
    }
    // Counted and logged before the answer leaves: whoever has the answer (a scrape that
    // follows it, a test) sees it counted.
    record(&request, context, response.result_int(), started);
    stream.expires_after(options_.limits.read_timeout);
    auto [ec, n] = co_await async_write_response(stream, response, head);
    co_return !ec && keep_alive;
}

asio::awaitable<void> http_server::linger(deadline_stream& stream,
                                          std::chrono::milliseconds linger_time) {
    // Closing with unread input makes the kernel send a reset, which can destroy the error
    // answer before the client reads it. So: stop sending, read and drop what the client still
    // sends until it closes (at most linger_time), then close, as nginx's lingering close does.
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream.expires_after(linger_time);
    std::array<char, 4096> sink;
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
        if (ec) {
            co_return;
        }
    }
}

asio::awaitable<void> http_server::answer_unreadable(deadline_stream& stream,
                                                     const boost::system::error_code& ec,
                                                     std::string& head) {
    const auto started = steady_clock::now();
    http::status status = http::status::bad_request;
    if (ec == http::error::header_limit) {
        status = http::status::request_header_fields_too_large;
    } else if (ec == http::error::body_limit) {
        status = http::status::payload_too_large;
    }
    http_request none{http::verb::unknown, "", 11};
    none.keep_alive(false);
    http_response response = json_error(none, status, "malformed request: " + ec.message());
    request_context context;
    context.request_id = new_request_id();
    response.set("x-request-id", context.request_id);
    record(nullptr, context, response.result_int(), started);
    stream.expires_after(options_.limits.read_timeout);
    co_await async_write_response(stream, response, head);
}

void http_server::record(const http_request* request, const request_context& context,
                         unsigned status, steady_clock::time_point started) {
    const auto duration = steady_clock::now() - started;
    if (options_.metrics != nullptr) {
        options_.metrics->record(options_.metrics->route_index(context.route), status, duration);
    }
    const auto level = options_.log_requests_at_info ? spdlog::level::info : spdlog::level::debug;
    if (!log_enabled(level)) {
        return;
    }
    log_line line(status == 0 ? "connection dropped" : "request");
    line.add("request_id", context.request_id)
        .add("method", request != nullptr ? std::string_view(request->method_string()) : "-")
        .add("path", request != nullptr ? std::string_view(request->target()) : "-")
        .add("route", context.route)
        .add("status", std::int64_t{status})
        .add("duration_ms", std::chrono::duration<double, std::milli>(duration).count());
    line.write(level);
}

} // namespace meshdemo
