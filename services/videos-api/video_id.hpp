#pragma once

#include "meshdemo/http_status.hpp"

#include <string>
#include <string_view>

namespace videos_api {

/** The video id a request target asks for, or why there is none. */
struct video_id_request {
    std::string id;
    boost::beast::http::status status =
        boost::beast::http::status::ok; ///< ok, or the error to answer
    std::string error;
};

inline constexpr std::size_t max_video_id_bytes = 256;

/** Reads "/{id}" (query ignored, percent-escapes decoded). Every other shape is an error:
 * no id (404), a deeper path (404), a malformed escape (400), an id over 256 bytes (400). */
video_id_request parse_video_id(std::string_view target);

} // namespace videos_api
