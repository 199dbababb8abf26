#pragma once

#include "meshdemo/http_types.hpp"

namespace meshdemo {

/** handler, plus the original Go services' permissive CORS headers on every answer and the
 * answer to OPTIONS preflights: how the APIs serve their main port when ENVIRONMENT=DEBUG, so
 * that a page served from elsewhere can call them during development. */
request_handler with_debug_cors(request_handler handler);

} // namespace meshdemo
