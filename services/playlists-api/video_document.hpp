#pragma once

#include <memory>
#include <string_view>

namespace simdjson::dom {
class parser;
}

namespace playlists_api {

/**
 * Checks a videos-api answer before it is spliced into a catalog: it must be one JSON object and
 * nothing else, or the merged answer would not be JSON.
 *
 * It runs for every video of every answer, so it uses simdjson, much cheaper than nlohmann's
 * accept() (figures: bench/RESULTS.md, Findings). Its verdict is RFC 8259's as nlohmann checks it:
 * a document simdjson cannot represent but JSON allows (an integer beyond 64 bits) is confirmed by
 * nlohmann::json::accept. One per worker thread: the parser keeps its buffers between documents.
 */
class video_document_check {
public:
    video_document_check();
    ~video_document_check();
    video_document_check(const video_document_check&) = delete;
    video_document_check& operator=(const video_document_check&) = delete;

    bool operator()(std::string_view body);

private:
    std::unique_ptr<simdjson::dom::parser> parser_;
};

} // namespace playlists_api
