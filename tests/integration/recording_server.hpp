#pragma once

#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace harness {

namespace http = boost::beast::http;

/** A test double: an HTTP server on loopback that records every request and answers with
 * respond(request). */
class recording_server {
public:
    using responder =
        std::function<std::pair<unsigned, std::string>(const http::request<http::string_body>&)>;
    explicit recording_server(responder respond);
    ~recording_server();
    std::uint16_t port() const { return port_; }
    std::vector<http::request<http::string_body>> requests() const;
    /** How many connections carried at least one request (bare connects, such as a
     * readiness check's, do not count). */
    std::size_t connections_used() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    std::uint16_t port_;
};

} // namespace harness
