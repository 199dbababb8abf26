#pragma once

#include "meshdemo/async.hpp"
#include "meshdemo/http_status.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
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

/** A response to request with the given body; keep-alive and version follow the request. */
http_response make_response(const http_request& request, http::status status, std::string body,
                            std::string_view content_type);

/** A JSON response. */
http_response json_response(const http_request& request, http::status status, std::string body);

/** Appends the status line and header fields as they go on the wire, ending with the blank line.
 * Written with the body in one gather write instead of Beast's generic serializer, whose buffer
 * sequence machinery costs more than the rest of a small exchange. */
void append_wire_head(std::string& out, const http_response& response);

/**
 * Writes a response, head and body, in one gather write; errors come back as values. `head` is
 * the caller's scratch buffer for the head and must outlive the write: a connection reuses one
 * for all its answers, so that writing allocates nothing.
 */
template <typename Stream>
auto async_write_response(Stream& stream, const http_response& response, std::string& head) {
    head.clear();
    append_wire_head(head, response);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                    asio::buffer(response.body())};
    return asio::async_write(stream, buffers, use_nothrow);
}

/** Whether the request is a GET or a HEAD, the only methods our routes take. */
bool is_get_or_head(const http_request& request);

/** 405 with Allow: GET, HEAD. */
http_response method_not_allowed(const http_request& request);

/** A JSON error response: {"error": message}. */
http_response json_error(const http_request& request, http::status status,
                         std::string_view message);

} // namespace meshdemo
