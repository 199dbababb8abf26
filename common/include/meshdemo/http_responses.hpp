#pragma once

#include "meshdemo/http_types.hpp"

#include <string>
#include <string_view>

namespace meshdemo {

/** A response to request with the given body; keep-alive and version follow the request. */
http_response make_response(const http_request& request, http::status status, std::string body,
                            std::string_view content_type);

/** A JSON response. */
http_response json_response(const http_request& request, http::status status, std::string body);

/** Whether the request is a GET or a HEAD, the only methods our routes take. */
bool is_get_or_head(const http_request& request);

/** 405 with Allow: GET, HEAD. */
http_response method_not_allowed(const http_request& request);

/** A JSON error response: {"error": message}. */
http_response json_error(const http_request& request, http::status status,
                         std::string_view message);

} // namespace meshdemo
