#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace playlists_api {

/** The stored playlists, checked, and the video ids they name. */
struct playlist_plan {
    nlohmann::json playlists;
    /** Every id named by a playlist, each once, in order of first appearance. */
    std::vector<std::string> video_ids;
};

/**
 * Reads the value of the "playlists" key: a JSON array of {id, name, videos: [{id}]}.
 * Returns the reason when it is anything else.
 */
std::variant<playlist_plan, std::string> read_playlists(std::string_view stored);

/** A videos-api answer body as a video object; empty when it is not a JSON object. */
std::optional<nlohmann::json> read_video(std::string_view body);

/** The answer of GET /: the playlists with their videos, and how many videos are missing. */
struct catalog {
    std::string body;
    std::size_t videos_total = 0;   ///< video entries across all playlists
    std::size_t videos_omitted = 0; ///< entries left out because their video could not be fetched
};

/**
 * Replaces each playlist's video ids with the full videos, order kept. videos[i] is the video
 * for plan.video_ids[i], or empty when it could not be fetched: such entries are left out.
 */
catalog merge_catalog(const playlist_plan& plan,
                      const std::vector<std::optional<nlohmann::json>>& videos);

} // namespace playlists_api
