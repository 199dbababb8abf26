#pragma once

#include "static_site.hpp"

#include "meshdemo/http_client.hpp"
#include "meshdemo/http_types.hpp"

#include <chrono>
#include <string>

namespace videos_web {

/** What videos-web serves besides its files. */
struct web_settings {
    std::string version = "v1";                  ///< VERSION: which page variant this is
    std::chrono::milliseconds api_timeout{5000}; ///< PLAYLISTS_API_TIMEOUT_MS
    std::string base_path; ///< BASE_PATH: a path prefix the site also answers under
};

/**
 * Serves the catalog page: the static site, GET /config.json (the version, for the page), and
 * GET /api/playlists forwarded to playlists-api with the request's trace headers, so that the
 * page needs one origin only. Every answer carries X-Version.
 */
class web_handler {
public:
    web_handler(const static_site& site, meshdemo::http_client& playlists, web_settings settings);

    meshdemo::asio::awaitable<meshdemo::http_response>
    operator()(const meshdemo::http_request& request, meshdemo::request_context& context);

private:
    meshdemo::asio::awaitable<meshdemo::http_response> answer(const meshdemo::http_request& request,
                                                              meshdemo::request_context& context);
    meshdemo::asio::awaitable<meshdemo::http_response>
    forward_playlists(const meshdemo::http_request& request,
                      const meshdemo::request_context& context);
    meshdemo::http_response serve_file(const meshdemo::http_request& request,
                                       std::string_view target,
                                       meshdemo::request_context& context) const;

    const static_site& site_;
    meshdemo::http_client& playlists_;
    web_settings settings_;
    std::string config_body_;
};

} // namespace videos_web
