#pragma once

#include "meshdemo/http_status.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshdemo {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;
using header_list = std::vector<std::pair<std::string, std::string>>;

/** What the server knows about one request besides the message itself. */
struct request_context {
    /** x-request-id: the inbound one, or a new one when the request came without. */
    std::string request_id;
    /** Trace headers to copy onto every outbound call made for this request. */
    header_list propagated_headers;
    /** Route label for metrics and logs, set by the handler (e.g. "/{id}"). */
    std::string_view route = "other";
    /** Set by a handler to close the connection without answering (an injected fault). */
    bool drop_connection = false;
};

/** Answers a request: a small function from request to response. */
using request_handler =
    std::function<asio::awaitable<http_response>(const http_request&, request_context&)>;

} // namespace meshdemo
