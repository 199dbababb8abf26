#include "meshdemo/cors.hpp"

namespace meshdemo {

namespace {

void add_debug_cors_headers(http_response& response) {
    response.set(http::field::access_control_allow_origin, "*");
    response.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS, PUT, DELETE");
    response.set(
        http::field::access_control_allow_headers,
        "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization");
}

http_response cors_preflight(const http_request& request) {
    http_response response{http::status::no_content, request.version()};
    response.keep_alive(request.keep_alive());
    add_debug_cors_headers(response);
    response.prepare_payload();
    return response;
}

} // namespace

request_handler with_debug_cors(request_handler handler) {
    // The handler lives in the lambda, which the server keeps for as long as it serves.
    return
        [handler = std::move(handler)](const http_request& request,
                                       request_context& context) -> asio::awaitable<http_response> {
            if (request.method() == http::verb::options) {
                co_return cors_preflight(request);
            }
            http_response response = co_await handler(request, context);
            add_debug_cors_headers(response);
            co_return response;
        };
}

} // namespace meshdemo
