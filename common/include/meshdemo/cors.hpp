#pragma once

#include "meshdemo/http_types.hpp"

namespace meshdemo {

/** Adds the original Go services' permissive CORS headers (used when ENVIRONMENT=DEBUG, so
 * that a page served from elsewhere can call the API during development). */
void add_debug_cors_headers(http_response& response);

/** The answer to an OPTIONS preflight: 204 with the CORS headers. */
http_response cors_preflight(const http_request& request);

} // namespace meshdemo
