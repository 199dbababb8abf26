#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace playlists_api {

/** One playlist laid out for merging: its JSON up to the videos array, and which videos go in. */
struct playlist_layout {
    /** e.g. {"id":"1","name":"CI/CD","videos":[ : every stored field but videos, then videos. */
    std::string head;
    /** Index into playlist_plan::video_ids of each video entry, in order. */
    std::vector<std::size_t> videos;
};

/** The stored playlists, checked, laid out for merging, and the video ids they name. */
struct playlist_plan {
    std::vector<playlist_layout> playlists;
    /** Every id named by a playlist, each once, in order of first appearance. */
    std::vector<std::string> video_ids;
};

/**
 * Reads the value of the "playlists" key: a JSON array of {id, name, videos: [{id}]}.
 * Returns the reason when it is anything else.
 */
std::variant<playlist_plan, std::string> read_playlists(std::string_view stored);

/** The answer of GET /: the playlists with their videos, and how many videos are missing. */
struct catalog {
    std::string body;
    std::size_t videos_total = 0;   ///< video entries across all playlists
    std::size_t videos_omitted = 0; ///< entries left out because their video could not be fetched
};

/**
 * Puts each playlist's videos in place of their ids, order kept. videos[i] is the JSON document
 * of plan.video_ids[i] as videos-api sent it (spliced in as it is: no parsing, no re-encoding),
 * or empty when it could not be fetched: such entries are left out.
 */
catalog merge_catalog(const playlist_plan& plan,
                      const std::vector<std::optional<std::string>>& videos);

} // namespace playlists_api
