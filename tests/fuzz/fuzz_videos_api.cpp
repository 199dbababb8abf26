// videos-api: any request parses to a valid video id or to an error status, never anything else.
#include "request_parsing.hpp"
#include "video_id.hpp"

#include "meshdemo/trace_context.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto request = parse_request(data, size);
    if (!request) {
        return 0;
    }
    meshdemo::request_context context;
    meshdemo::read_trace_context(*request, context);
    if (context.request_id.empty()) {
        std::abort();
    }
    const auto video = videos_api::parse_video_id(request->target());
    if (video.status == boost::beast::http::status::ok &&
        (video.id.empty() || video.id.size() > videos_api::max_video_id_bytes ||
         video.id.find('/') != std::string::npos)) {
        std::abort();
    }
    return 0;
}
