// playlists-api: whatever is stored under "playlists", reading and merging it either fails with
// a reason or yields a JSON array whose counts add up.
#include "playlist_catalog.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view stored(reinterpret_cast<const char*>(data), size);
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
