#include "playlist_catalog.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace playlists_api;
using nlohmann::json;

namespace {

json video(const std::string& id) {
    return {{"id", id}, {"title", "T" + id}, {"description", ""}, {"imageurl", "i"}, {"url", "u"}};
}

/** The video as videos-api sends it: a JSON document. */
std::optional<std::string> sent(const std::string& id) {
    return video(id).dump();
}

} // namespace

TEST(PlaylistCatalog, ReadsPlaylistsAndUniqueIdsInOrder) {
    const auto read = read_playlists(
        R"([{"id":"1","name":"A","videos":[{"id":"x"},{"id":"y"}]},{"id":"2","name":"B","videos":[{"id":"y"},{"id":"z"}]}])");
    const auto& plan = std::get<playlist_plan>(read);
    EXPECT_EQ(plan.video_ids, (std::vector<std::string>{"x", "y", "z"}));
}

TEST(PlaylistCatalog, RejectsStoredValuesOfTheWrongShape) {
    for (const char* bad : {"not json", "{}", "[1]", R"([{"videos":{}}])",
                            R"([{"videos":[{"id":1}]}])", R"([{"videos":["x"]}])"}) {
        EXPECT_TRUE(std::holds_alternative<std::string>(read_playlists(bad))) << bad;
    }
    EXPECT_TRUE(std::holds_alternative<playlist_plan>(read_playlists("[]")));
    EXPECT_TRUE(
        std::holds_alternative<playlist_plan>(read_playlists(R"([{"id":"1","name":"empty"}])")));
}

TEST(PlaylistCatalog, MergesVideosKeepingOrderAndFields) {
    const auto plan = std::get<playlist_plan>(read_playlists(
        R"([{"id":"1","name":"A","videos":[{"id":"y"},{"id":"x"}]},{"id":"2","name":"B","videos":[{"id":"x"}]}])"));
    ASSERT_EQ(plan.video_ids, (std::vector<std::string>{"y", "x"}));
    const auto merged = merge_catalog(plan, {sent("y"), sent("x")});
    EXPECT_EQ(merged.videos_total, 3u);
    EXPECT_EQ(merged.videos_omitted, 0u);
    const json body = json::parse(merged.body);
    ASSERT_EQ(body.size(), 2u);
    EXPECT_EQ(body[0]["id"], "1");
    EXPECT_EQ(body[0]["name"], "A");
    EXPECT_EQ(body[0]["videos"][0], video("y"));
    EXPECT_EQ(body[0]["videos"][1], video("x"));
    EXPECT_EQ(body[1]["videos"][0], video("x"));
}

TEST(PlaylistCatalog, LeavesOutVideosThatCouldNotBeFetched) {
    const auto plan = std::get<playlist_plan>(read_playlists(
        R"([{"id":"1","name":"A","videos":[{"id":"x"},{"id":"y"}]},{"id":"2","name":"B","videos":[{"id":"y"}]}])"));
    const auto merged = merge_catalog(plan, {sent("x"), std::nullopt});
    EXPECT_EQ(merged.videos_total, 3u);
    EXPECT_EQ(merged.videos_omitted, 2u);
    const json body = json::parse(merged.body);
    EXPECT_EQ(body[0]["videos"].size(), 1u);
    EXPECT_EQ(body[1]["videos"], json::array());
}

TEST(PlaylistCatalog, KeepsEveryStoredPlaylistFieldAndSplicesVideosVerbatim) {
    const auto plan = std::get<playlist_plan>(read_playlists(
        R"([{"name":"A \"quoted\"","id":"1","extra":{"k":[1,2]},"videos":[{"id":"x"}]}])"));
    const std::string stored_video = R"({"url":"https:\/\/y","id":"x"})";
    const auto merged = merge_catalog(plan, {stored_video});
    EXPECT_EQ(merged.body, R"([{"extra":{"k":[1,2]},"id":"1","name":"A \"quoted\"","videos":[)" +
                               stored_video + "]}]");
    EXPECT_EQ(json::parse(merged.body)[0]["videos"][0]["url"], "https://y");
}
