#pragma once

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace harness {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using header_list = std::vector<std::pair<std::string, std::string>>;

/** An HTTP answer, or the error that prevented one (status 0). */
struct answer {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers; ///< names in lower case
    std::string error;
    std::string header(const std::string& name) const;
};

/** One request on a new connection. */
answer http_get(std::uint16_t port, const std::string& target, const header_list& headers = {},
                http::verb method = http::verb::get, std::chrono::milliseconds timeout = 5s);

/** Sends raw bytes and returns what comes back until the server closes or timeout passes. */
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = 5s);

} // namespace harness
