// playlists-api against real redis-server processes and the real videos-api.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace harness;
using nlohmann::json;

namespace {

/** Both databases, videos-api and playlists-api, wired together on loopback. */
struct catalog_stack {
    explicit catalog_stack(env_map videos_extra = {}, env_map playlists_extra = {})
        : playlists_db("playlists-db"), videos_db("videos-db"),
          videos(videos_api_binary(), with_redis(videos_db, std::move(videos_extra))),
          playlists(
              playlists_api_binary(),
              with_videos(with_redis(playlists_db, std::move(playlists_extra)), videos.port())) {}

    static env_map with_redis(const seeded_redis& db, env_map env) {
        env.emplace("REDIS_HOST", "127.0.0.1");
        env.emplace("REDIS_PORT", std::to_string(db.port()));
        return env;
    }
    static env_map with_videos(env_map env, std::uint16_t port) {
        env.emplace("VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(port));
        return env;
    }

    seeded_redis playlists_db;
    seeded_redis videos_db;
    service videos;
    service playlists;
};

std::size_t video_count(const json& catalog) {
    std::size_t count = 0;
    for (const auto& playlist : catalog) {
        count += playlist["videos"].size();
    }
    return count;
}

} // namespace

TEST(PlaylistsApi, ReturnsEveryPlaylistWithItsVideosInOrder) {
    catalog_stack stack;
    const answer got = http_get(stack.playlists.port(), "/");
    ASSERT_EQ(got.status, 200u) << got.body;
    EXPECT_EQ(got.header("content-type"), "application/json");
    EXPECT_EQ(got.header("x-videos-total"), "9");
    EXPECT_EQ(got.header("x-videos-omitted"), "0");
    const json catalog = json::parse(got.body);
    ASSERT_EQ(catalog.size(), 4u);
    EXPECT_EQ(video_count(catalog), 9u);
    EXPECT_EQ(catalog[0]["id"], "1");
    EXPECT_EQ(catalog[0]["name"], "CI/CD");
    const std::vector<std::string> ci_cd{"OFgziggbCOg", "myCcJJ_Fk10", "2WSJF7d8dUg"};
    for (std::size_t i = 0; i < ci_cd.size(); ++i) {
        EXPECT_EQ(catalog[0]["videos"][i]["id"], ci_cd[i]);
    }
    const json& flux = catalog[0]["videos"][0];
    for (const char* field : {"id", "title", "description", "imageurl", "url"}) {
        EXPECT_TRUE(flux.contains(field)) << field;
    }
    EXPECT_EQ(flux["title"], "Flux CD");
    EXPECT_EQ(catalog[3]["name"], "K8s Autoscaling");
}

TEST(PlaylistsApi, VideosApiDownLeavesEveryVideoOutButStillAnswers) {
    catalog_stack stack;
    stack.videos.stop();
    const answer got = http_get(stack.playlists.port(), "/");
    ASSERT_EQ(got.status, 200u) << got.body;
    EXPECT_EQ(got.header("x-videos-omitted"), "9");
    const json catalog = json::parse(got.body);
    EXPECT_EQ(catalog.size(), 4u);
    EXPECT_EQ(video_count(catalog), 0u);
    // Logging is asynchronous: the line may reach the file a moment after the answer.
    EXPECT_TRUE(eventually(
        [&] { return stack.playlists.log().find("video left out") != std::string::npos; }, 3s));
}

TEST(PlaylistsApi, SlowVideosApiGivesAPartialAnswerWithinTheTimeout) {
    catalog_stack stack({{"LATENCY_MS", "3000"}}, {{"VIDEOS_API_TIMEOUT_MS", "300"}});
    const auto started = std::chrono::steady_clock::now();
    const answer got = http_get(stack.playlists.port(), "/");
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(got.status, 200u) << got.body;
    EXPECT_EQ(got.header("x-videos-omitted"), "9");
    // All calls run concurrently: one timeout, not nine.
    EXPECT_LT(took, 1500ms);
}

TEST(PlaylistsApi, FlakyVideosApiGivesPartialAnswers) {
    catalog_stack stack(env_map{{"FLAKY", "true"}, {"FLAKY_RATE", "0.5"}});
    std::size_t partial = 0;
    for (int i = 0; i < 20; ++i) {
        const answer got = http_get(stack.playlists.port(), "/");
        ASSERT_EQ(got.status, 200u);
        const auto omitted = std::stoul(got.header("x-videos-omitted"));
        EXPECT_EQ(video_count(json::parse(got.body)) + omitted, 9u);
        partial += omitted > 0 ? 1 : 0;
    }
    EXPECT_GT(partial, 10u); // P(no failure among 9) = 1/512 per answer
}

TEST(PlaylistsApi, FanoutIsBoundedByTheLimit) {
    // With one call at a time, nine 200 ms calls take about nine times as long as with all at once.
    catalog_stack serial({{"LATENCY_MS", "200"}}, {{"FANOUT_LIMIT", "1"}});
    const auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(http_get(serial.playlists.port(), "/").header("x-videos-omitted"), "0");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 1800ms);
}

TEST(PlaylistsApi, MissingKeyGivesAnEmptyList) {
    catalog_stack stack;
    stack.playlists_db.cli("del playlists");
    const answer got = http_get(stack.playlists.port(), "/");
    EXPECT_EQ(got.status, 200u);
    EXPECT_EQ(got.body, "[]");
}

TEST(PlaylistsApi, UnusableStoredValueGives500AndALogLine) {
    catalog_stack stack;
    stack.playlists_db.cli("set playlists '{\"not\":\"a list\"}'");
    const answer got = http_get(stack.playlists.port(), "/");
    EXPECT_EQ(got.status, 500u);
    EXPECT_TRUE(json::parse(got.body).contains("error"));
    EXPECT_TRUE(eventually(
        [&] {
            return stack.playlists.log().find("stored playlists unusable") != std::string::npos;
        },
        3s));
    // The verdict is kept only while the stored value stays the same: mended data is read again.
    EXPECT_EQ(http_get(stack.playlists.port(), "/").status, 500u);
    stack.playlists_db.cli("set playlists '[{\"id\":\"1\",\"name\":\"One\",\"videos\":[]}]'");
    const answer mended = http_get(stack.playlists.port(), "/");
    EXPECT_EQ(mended.status, 200u) << mended.body;
    EXPECT_EQ(json::parse(mended.body).size(), 1u);
}

TEST(PlaylistsApi, RedisDownGives503ThenRecovers) {
    catalog_stack stack;
    stack.playlists_db.stop();
    const answer down = http_get(stack.playlists.port(), "/");
    EXPECT_EQ(down.status, 503u);
    EXPECT_TRUE(json::parse(down.body).contains("error"));
    stack.playlists_db.start();
    EXPECT_TRUE(
        eventually([&] { return http_get(stack.playlists.port(), "/").status == 200; }, 10s));
}

TEST(PlaylistsApi, AlsoAnswersAtTheUnstrippedEntryPath) {
    catalog_stack stack;
    const answer root = http_get(stack.playlists.port(), "/");
    const answer unstripped = http_get(stack.playlists.port(), "/api/playlists");
    EXPECT_EQ(unstripped.status, 200u);
    EXPECT_EQ(unstripped.body, root.body);
}

TEST(PlaylistsApi, UnknownPathsAndMethods) {
    catalog_stack stack;
    EXPECT_EQ(http_get(stack.playlists.port(), "/nope").status, 404u);
    EXPECT_EQ(http_get(stack.playlists.port(), "/", {}, http::verb::delete_).status, 405u);
    EXPECT_EQ(http_get(stack.playlists.port(), "/", {}, http::verb::head).status, 200u);
}

TEST(PlaylistsApi, DebugEnvironmentAddsCors) {
    catalog_stack stack({}, {{"ENVIRONMENT", "DEBUG"}});
    EXPECT_EQ(http_get(stack.playlists.port(), "/").header("access-control-allow-origin"), "*");
    EXPECT_EQ(http_get(stack.playlists.port(), "/", {}, http::verb::options).status, 204u);
}
