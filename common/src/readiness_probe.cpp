#include "meshdemo/readiness_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <string_view>

namespace meshdemo {

namespace asio = boost::asio;

bool probe_readiness(const std::string& bind_address, std::uint16_t admin_port) {
    boost::system::error_code ec;
    // Where the service listens: every address (then loopback answers) or the one it was given.
    const std::string host = bind_address.empty() || bind_address == "0.0.0.0" ? "127.0.0.1"
                             : bind_address == "::"                            ? "::1"
                                                                               : bind_address;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) {
        return false;
    }
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.open(address.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
    if (ec) {
        return false;
    }
    const timeval limit{2, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    socket.connect({address, admin_port}, ec);
    if (ec) {
        return false;
    }
    constexpr std::string_view request = "GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n";
    asio::write(socket, asio::buffer(request), ec);
    if (ec) {
        return false;
    }
    char status_line[12] = {}; // "HTTP/1.1 200"
    asio::read(socket, asio::buffer(status_line), ec);
    const std::string_view got(status_line, sizeof status_line);
    return !ec && got.substr(0, 7) == "HTTP/1." && got.substr(8) == " 200";
}

} // namespace meshdemo
