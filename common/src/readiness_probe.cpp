#include "meshdemo/readiness_probe.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace meshdemo {

namespace asio = boost::asio;

namespace {

/** Asks /readyz once; the reason it is not ready, or empty when it answered 200. */
asio::awaitable<std::string> ask_readyz(asio::ip::tcp::endpoint where) {
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    if (auto [ec] = co_await socket.async_connect(where, use_nothrow); ec) {
        co_return "cannot connect to the admin port: " + ec.message();
    }
    constexpr std::string_view request = "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (auto [ec, n] = co_await asio::async_write(socket, asio::buffer(request), use_nothrow); ec) {
        co_return "cannot send: " + ec.message();
    }
    char status_line[12] = {}; // "HTTP/1.1 200"
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(status_line), use_nothrow);
    const std::string_view got(status_line, n);
    if (ec) {
        co_return "no answer: " + ec.message();
    }
    if (got.substr(0, 7) != "HTTP/1." || got.substr(8) != " 200") {
        co_return "answered " + std::string(got.substr(9));
    }
    co_return std::string{};
}

} // namespace

bool probe_readiness(const std::string& bind_address, std::uint16_t admin_port) {
    // Where the service listens: every address (then loopback answers) or the one it was given.
    const std::string host = bind_address.empty() || bind_address == "0.0.0.0" ? "127.0.0.1"
                             : bind_address == "::"                            ? "::1"
                                                                               : bind_address;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        std::fprintf(stderr, "probe: not an IP address: %s\n", host.c_str());
        return false;
    }
    asio::io_context io;
    std::string reason = "no answer within 2 s";
    asio::co_spawn(io, ask_readyz({address, admin_port}),
                   [&reason](std::exception_ptr error, std::string outcome) {
                       reason = error ? "probe failed" : std::move(outcome);
                   });
    // One limit for connect, send and answer together; what is still pending then is dropped.
    io.run_for(std::chrono::seconds(2));
    if (!reason.empty()) {
        std::fprintf(stderr, "probe: not ready: %s\n", reason.c_str());
        return false;
    }
    return true;
}

} // namespace meshdemo
