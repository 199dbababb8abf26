#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <ostream> // beast/http/status.hpp needs it but does not include it

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
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

/** The start line and header fields as they go on the wire, ending with the blank line.
 * Written with the body in one gather write instead of Beast's generic serializer, whose buffer
 * sequence machinery costs more than the rest of a small exchange. */
std::string wire_head(const http_request& request);
std::string wire_head(const http_response& response);

/** Writes a message, head and body, in one gather write; errors come back as values. */
template <typename Stream, typename Message>
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>>
async_write_message(Stream& stream, const Message& message) {
    const std::string head = wire_head(message);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                    asio::buffer(message.body())};
    co_return co_await asio::async_write(stream, buffers, asio::as_tuple(asio::use_awaitable));
}

/** Whether the request is a GET or a HEAD, the only methods our routes take. */
bool is_get_or_head(const http_request& request);

/** 405 with Allow: GET, HEAD. */
http_response method_not_allowed(const http_request& request);

/** A JSON error response: {"error": message}. */
http_response json_error(const http_request& request, http::status status,
                         std::string_view message);

} // namespace meshdemo
