#pragma once

#include "meshdemo/http_types.hpp"

namespace meshdemo {

/** Adds the original Go services' permissive CORS headers (used when ENVIRONMENT=DEBUG, so
 * that a page served from elsewhere can call the API during development). */
void add_debug_cors_headers(http_response& response);

/** The answer to an OPTIONS preflight: 204 with the CORS headers. */
http_response cors_preflight(const http_request& request);

/** Answers with answer(), and when enabled (ENVIRONMENT=DEBUG) answers preflights and adds the
 * CORS headers to every answer. */
template <typename Answer>
asio::awaitable<http_response> with_debug_cors(bool enabled, const http_request& request,
                                               Answer answer) {
    if (enabled && request.method() == http::verb::options) {
        co_return cors_preflight(request);
    }
    http_response response = co_await answer();
    if (enabled) {
        add_debug_cors_headers(response);
    }
    co_return response;
}

} // namespace meshdemo
