#include "http_get.hpp"

#include "connection.hpp"
#include "meshdemo/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

namespace harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using meshdemo::use_nothrow;

std::string answer::header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? std::string{} : found->second;
}

answer http_get(std::uint16_t port, const std::string& target, const header_list& headers,
                http::verb method, std::chrono::milliseconds timeout) {
    connection fresh(port);
    return fresh.request(target, headers, method, timeout);
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
    asio::io_context io;
    std::string received;
    // A named lambda: the coroutine refers to its captures, which must outlive io.run().
    auto exchange = [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(io);
        stream.expires_after(timeout);
        auto [ec] = co_await stream.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_nothrow);
        if (ec) {
            co_return;
        }
        co_await asio::async_write(stream, asio::buffer(bytes), use_nothrow);
        char chunk[4096];
        for (;;) {
            auto [read_error, n] =
                co_await stream.async_read_some(asio::buffer(chunk), use_nothrow);
            received.append(chunk, n);
            if (read_error) {
                co_return;
            }
        }
    };
    asio::co_spawn(io, exchange(), asio::detached);
    io.run();
    return received;
}

} // namespace harness
