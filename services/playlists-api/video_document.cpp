#include "video_document.hpp"

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace playlists_api {

namespace {

/** Documents up to this size reuse the worker's parser; a larger one gets a parser of its own,
 * so that one huge answer does not leave its buffers behind for the life of the process. */
constexpr std::size_t reused_parser_limit = 64 * 1024;

/** nlohmann's verdict. It takes a NUL byte for the end of the input, so that "{}\0x" would pass:
 * a raw NUL is never JSON, so any is refused first. */
bool nlohmann_accepts_object(std::string_view body) {
    const auto first = body.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && body[first] == '{' &&
           body.find('\0') == std::string_view::npos && nlohmann::json::accept(body);
}

bool is_object(simdjson::dom::parser& parser, std::string_view body) {
    const auto document = parser.parse(body.data(), body.size()); // copies into padded memory
    switch (document.error()) {
    case simdjson::SUCCESS:
        return document.value_unsafe().is_object();
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
    case simdjson::DEPTH_ERROR:
        // Numbers simdjson cannot hold, nesting deeper than it goes: JSON may still allow them.
        return nlohmann_accepts_object(body);
    default:
        return false;
    }
}

} // namespace

video_document_check::video_document_check() : parser_(std::make_unique<simdjson::dom::parser>()) {}

video_document_check::~video_document_check() = default;

bool video_document_check::operator()(std::string_view body) {
    if (body.size() > reused_parser_limit) {
        simdjson::dom::parser once;
        return is_object(once, body);
    }
    return is_object(*parser_, body);
}

} // namespace playlists_api
