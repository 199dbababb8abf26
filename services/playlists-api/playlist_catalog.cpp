#include "playlist_catalog.hpp"

#include <nlohmann/json.hpp>

#include <unordered_map>

namespace playlists_api {

using nlohmann::json;

namespace {

/** {"k":v,...,"videos":[ with the playlist's other fields in their (sorted) order. */
std::string head_of(const json& playlist) {
    std::string head = "{";
    for (const auto& [key, value] : playlist.items()) {
        if (key == "videos") {
            continue;
        }
        head += json(key).dump(-1, ' ', false, json::error_handler_t::replace);
        head += ':';
        head += value.dump(-1, ' ', false, json::error_handler_t::replace);
        head += ',';
    }
    head += R"("videos":[)";
    return head;
}

} // namespace

std::variant<playlist_plan, std::string> read_playlists(std::string_view stored) {
    const json playlists = json::parse(stored, nullptr, false);
    if (playlists.is_discarded()) {
        return std::string("stored playlists are not valid JSON");
    }
    if (!playlists.is_array()) {
        return std::string("stored playlists are not a JSON array");
    }
    playlist_plan plan;
    std::unordered_map<std::string, std::size_t> index_of;
    for (const auto& playlist : playlists) {
        if (!playlist.is_object()) {
            return std::string("a stored playlist is not a JSON object");
        }
        playlist_layout layout{head_of(playlist), {}};
        const auto videos = playlist.find("videos");
        if (videos != playlist.end() && !videos->is_null()) {
            if (!videos->is_array()) {
                return std::string("a stored playlist's videos are not a JSON array");
            }
            for (const auto& video : *videos) {
                const auto id = video.is_object() ? video.find("id") : video.end();
                if (!video.is_object() || id == video.end() || !id->is_string()) {
                    return std::string("a stored playlist names a video without a string id");
                }
                const auto& text = id->get_ref<const std::string&>();
                const auto [found, added] = index_of.emplace(text, plan.video_ids.size());
                if (added) {
                    plan.video_ids.push_back(text);
                }
                layout.videos.push_back(found->second);
            }
        }
        plan.playlists.push_back(std::move(layout));
    }
    return plan;
}

catalog merge_catalog(const playlist_plan& plan,
                      const std::vector<std::optional<std::string>>& videos) {
    catalog result;
    std::size_t size = 2;
    for (const auto& video : videos) {
        size += video ? video->size() + 1 : 0;
    }
    for (const auto& playlist : plan.playlists) {
        size += playlist.head.size() + 3;
    }
    result.body.reserve(size + size / 4); // a video in several playlists appears several times
    result.body.push_back('[');
    for (const auto& playlist : plan.playlists) {
        if (result.body.size() > 1) {
            result.body.push_back(',');
        }
        result.body.append(playlist.head);
        bool first = true;
        for (const std::size_t index : playlist.videos) {
            ++result.videos_total;
            if (index >= videos.size() || !videos[index]) {
                ++result.videos_omitted;
                continue;
            }
            if (!first) {
                result.body.push_back(',');
            }
            first = false;
            result.body.append(*videos[index]);
        }
        result.body.append("]}");
    }
    result.body.push_back(']');
    return result;
}

} // namespace playlists_api
