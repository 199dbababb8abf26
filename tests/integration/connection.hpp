#pragma once

// Used by http_get and run_load; not part of the harness.hpp umbrella.

#include "http_get.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace harness {

/** A blocking keep-alive connection built on one private io_context. */
class connection {
public:
    explicit connection(std::uint16_t port) : port_(port), stream_(io_) {}

    answer request(const std::string& target, const header_list& headers, http::verb method,
                   std::chrono::milliseconds timeout);

private:
    boost::asio::awaitable<void> exchange(std::string target, header_list headers,
                                          http::verb method, std::chrono::milliseconds timeout,
                                          answer& result);
    void close();

    std::uint16_t port_;
    boost::asio::io_context io_;
    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    bool open_ = false;
};

} // namespace harness
