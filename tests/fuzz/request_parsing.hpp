#pragma once

// Parses fuzzer bytes the way the services' HTTP server does: same parser, same limits.
#include "meshdemo/http_server.hpp"
#include "meshdemo/http_types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <optional>

inline std::optional<meshdemo::http_request> parse_request(const std::uint8_t* data,
                                                           std::size_t size) {
    namespace http = boost::beast::http;
    http::request_parser<http::string_body> parser;
    const meshdemo::server_limits limits; // the defaults every service starts with
    parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    parser.body_limit(limits.body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_done()) {
        return std::nullopt;
    }
    return parser.release();
}
