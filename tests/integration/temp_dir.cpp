#include "temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <random>
#include <stdexcept>

#include <stdlib.h>

namespace harness {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::uint16_t free_port() {
    // Below the kernel's ephemeral range (32768+): there, an outgoing connection of a busy machine
    // could take the port between this check and the service's bind.
    thread_local std::mt19937 random{std::random_device{}()};
    asio::io_context io;
    for (;;) {
        const auto port =
            static_cast<std::uint16_t>(std::uniform_int_distribution<int>(20000, 32000)(random));
        tcp::acceptor acceptor(io);
        boost::system::error_code ec;
        acceptor.open(tcp::v4(), ec);
        acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
        if (!ec) {
            return port;
        }
    }
}

std::string make_temp_dir(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

} // namespace harness
