#include "video_id.hpp"

#include "meshdemo/url.hpp"

namespace videos_api {

using boost::beast::http::status;

video_id_request parse_video_id(std::string_view target) {
    std::string_view path = meshdemo::target_path(target);
    if (path.empty() || path.front() != '/') {
        return {{}, status::bad_request, "request target must start with /"};
    }
    path.remove_prefix(1);
    if (path.empty()) {
        return {{}, status::not_found, "no video id given: ask for /{id}"};
    }
    if (path.find('/') != std::string_view::npos) {
        return {{}, status::not_found, "not found: ask for /{id}"};
    }
    auto id = meshdemo::percent_decode(path);
    if (!id) {
        return {{}, status::bad_request, "malformed percent-encoding in video id"};
    }
    if (id->size() > max_video_id_bytes) {
        return {{}, status::bad_request, "video id longer than 256 bytes"};
    }
    if (id->empty() || id->find('/') != std::string::npos) {
        return {{}, status::not_found, "not found: ask for /{id}"};
    }
    return {std::move(*id), status::ok, {}};
}

} // namespace videos_api
