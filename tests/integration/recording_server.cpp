#include "recording_server.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

#include <mutex>
#include <set>
#include <thread>

namespace harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using meshdemo::use_nothrow;

struct recording_server::impl {
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    responder respond;
    mutable std::mutex mutex;
    std::vector<http::request<http::string_body>> seen;
    std::size_t accepted = 0;               // touched on the server's thread only
    std::set<std::size_t> connections_used; // guarded by mutex
    std::thread thread;

    asio::awaitable<void> serve(tcp::socket socket, std::size_t connection) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> request;
            auto [ec, n] = co_await http::async_read(stream, buffer, request, use_nothrow);
            if (ec) {
                co_return;
            }
            {
                std::lock_guard lock(mutex);
                seen.push_back(request);
                connections_used.insert(connection);
            }
            auto [status, body] = respond(request);
            http::response<http::string_body> response{static_cast<http::status>(status), 11};
            response.set(http::field::content_type, "application/json");
            response.body() = body;
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            auto [write_error, written] = co_await http::async_write(stream, response, use_nothrow);
            if (write_error || !request.keep_alive()) {
                co_return;
            }
        }
    }

    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec) {
                co_return;
            }
            asio::co_spawn(io, serve(std::move(socket), ++accepted), asio::detached);
        }
    }
};

recording_server::recording_server(responder respond) : impl_(std::make_unique<impl>()) {
    impl_->respond = std::move(respond);
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->io, impl_->accept(), asio::detached);
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

recording_server::~recording_server() {
    impl_->io.stop();
    impl_->thread.join();
}

std::size_t recording_server::connections_used() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->connections_used.size();
}

std::vector<http::request<http::string_body>> recording_server::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

} // namespace harness
