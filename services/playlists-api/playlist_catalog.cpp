#include "playlist_catalog.hpp"

#include <unordered_map>

namespace playlists_api {

using nlohmann::json;

std::variant<playlist_plan, std::string> read_playlists(std::string_view stored) {
    json playlists = json::parse(stored, nullptr, false);
    if (playlists.is_discarded()) {
        return std::string("stored playlists are not valid JSON");
    }
    if (!playlists.is_array()) {
        return std::string("stored playlists are not a JSON array");
    }
    playlist_plan plan;
    std::unordered_map<std::string, bool> seen;
    for (const auto& playlist : playlists) {
        if (!playlist.is_object()) {
            return std::string("a stored playlist is not a JSON object");
        }
        const auto videos = playlist.find("videos");
        if (videos == playlist.end() || videos->is_null()) {
            continue;
        }
        if (!videos->is_array()) {
            return std::string("a stored playlist's videos are not a JSON array");
        }
        for (const auto& video : *videos) {
            const auto id = video.is_object() ? video.find("id") : video.end();
            if (!video.is_object() || id == video.end() || !id->is_string()) {
                return std::string("a stored playlist names a video without a string id");
            }
            const auto& text = id->get_ref<const std::string&>();
            if (seen.emplace(text, true).second) {
                plan.video_ids.push_back(text);
            }
        }
    }
    plan.playlists = std::move(playlists);
    return plan;
}

std::optional<json> read_video(std::string_view body) {
    json video = json::parse(body, nullptr, false);
    if (video.is_discarded() || !video.is_object()) {
        return std::nullopt;
    }
    return video;
}

catalog merge_catalog(const playlist_plan& plan, const std::vector<std::optional<json>>& videos) {
    std::unordered_map<std::string_view, const json*> by_id;
    for (std::size_t i = 0; i < plan.video_ids.size() && i < videos.size(); ++i) {
        if (videos[i]) {
            by_id.emplace(plan.video_ids[i], &*videos[i]);
        }
    }
    catalog result;
    json merged = json::array();
    for (const auto& playlist : plan.playlists) {
        json out = json::object();
        for (const auto& [key, value] : playlist.items()) {
            if (key != "videos") {
                out[key] = value;
            }
        }
        json list = json::array();
        const auto entries = playlist.find("videos");
        if (entries != playlist.end() && entries->is_array()) {
            for (const auto& entry : *entries) {
                ++result.videos_total;
                const auto found = by_id.find(entry.at("id").get_ref<const std::string&>());
                if (found == by_id.end()) {
                    ++result.videos_omitted;
                } else {
                    list.push_back(*found->second);
                }
            }
        }
        out["videos"] = std::move(list);
        merged.push_back(std::move(out));
    }
    result.body = merged.dump(-1, ' ', false, json::error_handler_t::replace);
    return result;
}

} // namespace playlists_api
