// playlists-api: whatever is stored under "playlists", reading and merging it either fails with
// a reason or yields a JSON array whose counts add up. The same bytes as a videos-api answer: the
// fast video document check gives nlohmann's verdict (differential).
#include "playlist_catalog.hpp"
#include "video_document.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view stored(reinterpret_cast<const char*>(data), size);
    static playlists_api::video_document_check is_video;
    const auto first = stored.find_first_not_of(" \t\r\n");
    // nlohmann takes a NUL for the end of input ("{}\0x" passes); a raw NUL is never JSON.
    const bool reference = first != std::string_view::npos && stored[first] == '{' &&
                           stored.find('\0') == std::string_view::npos &&
                           nlohmann::json::accept(stored);
    if (is_video(stored) != reference) {
        std::abort();
    }
    auto read = playlists_api::read_playlists(stored);
    const auto* plan = std::get_if<playlists_api::playlist_plan>(&read);
    if (plan == nullptr) {
        return 0;
    }
    std::vector<std::optional<std::string>> videos(plan->video_ids.size());
    for (std::size_t i = 0; i < videos.size(); i += 2) { // every other video "fetched"
        videos[i] = nlohmann::json{{"id", plan->video_ids[i]}, {"title", "t"}}.dump();
    }
    const auto merged = playlists_api::merge_catalog(*plan, videos);
    const auto body = nlohmann::json::parse(merged.body, nullptr, false);
    if (!body.is_array() || merged.videos_omitted > merged.videos_total) {
        std::abort();
    }
    return 0;
}
