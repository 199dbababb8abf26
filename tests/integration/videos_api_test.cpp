// videos-api against a real seeded redis-server.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>

using namespace harness;
using nlohmann::json;

namespace {

env_map videos_env(const seeded_redis& db, env_map extra = {}) {
    extra.emplace("REDIS_HOST", "127.0.0.1");
    extra.emplace("REDIS_PORT", std::to_string(db.port()));
    return extra;
}

void expect_json_error(const answer& got, unsigned status) {
    EXPECT_EQ(got.status, status) << got.body;
    EXPECT_EQ(got.header("content-type"), "application/json");
    const json body = json::parse(got.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << got.body;
    EXPECT_TRUE(body.contains("error")) << got.body;
}

} // namespace

TEST(VideosApi, ReturnsTheStoredVideo) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), videos_env(db));
    const answer got = http_get(api.port(), "/jM36M39MA3I");
    ASSERT_EQ(got.status, 200u) << got.body;
    EXPECT_EQ(got.header("content-type"), "application/json");
    // The stored document, byte for byte.
    EXPECT_EQ(got.body + "\n", db.cli("--raw get jM36M39MA3I"));
    const json video = json::parse(got.body);
    EXPECT_EQ(video["title"], "Kubernetes cluster autoscaling");
    EXPECT_EQ(video["url"], "https://youtu.be/jM36M39MA3I");
    // Percent-encoded ids are decoded.
    EXPECT_EQ(json::parse(http_get(api.port(), "/%5FlpDfMkxccc").body)["title"],
              "RabbitMQ on Kubernetes");
    EXPECT_FALSE(got.header("x-request-id").empty());
}

TEST(VideosApi, EveryStrangeIdGetsAJsonErrorNotACrash) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), videos_env(db));
    expect_json_error(http_get(api.port(), "/does-not-exist"), 404);
    expect_json_error(http_get(api.port(), "/"), 404);
    expect_json_error(http_get(api.port(), "/.."), 404);
    expect_json_error(http_get(api.port(), "/../../etc/passwd"), 404);
    expect_json_error(http_get(api.port(), "/%zz"), 400);
    expect_json_error(http_get(api.port(), "/%00"), 400);
    expect_json_error(http_get(api.port(), "/" + std::string(5000, 'x')), 400);
    expect_json_error(http_get(api.port(), "/%E2%9C%93%20%22quoted%22"), 404);
    expect_json_error(http_get(api.port(), "/x", {}, http::verb::post), 405);
    EXPECT_EQ(http_get(api.port(), "/jM36M39MA3I").status, 200u); // still alive
    EXPECT_TRUE(api.process().running());
}

TEST(VideosApi, RedisDownGives503AndARestartIsSurvived) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), videos_env(db));
    ASSERT_EQ(http_get(api.port(), "/OFgziggbCOg").status, 200u);
    db.stop();
    expect_json_error(http_get(api.port(), "/OFgziggbCOg"), 503);
    EXPECT_EQ(http_get(api.admin_port(), "/readyz").status, 503u);
    db.start();
    EXPECT_TRUE(
        eventually([&] { return http_get(api.port(), "/OFgziggbCOg").status == 200; }, 10s));
    EXPECT_EQ(http_get(api.admin_port(), "/readyz").status, 200u);
    EXPECT_TRUE(api.process().running());
}

TEST(VideosApi, FlakyFailsAboutOneRequestInThree) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), videos_env(db, {{"FLAKY", "true"}}));
    std::atomic<int> failures{0};
    std::atomic<int> bad_bodies{0};
    const auto load = run_load(api.port(), "/myCcJJ_Fk10", 4, 3s, [&](const answer& got) {
        if (got.status == 500) {
            ++failures;
            if (json::parse(got.body, nullptr, false).is_discarded()) {
                ++bad_bodies;
            }
        }
    });
    ASSERT_GE(load.sent, 2000u) << "too few requests for a statistical check";
    EXPECT_EQ(load.failed, 0u);
    EXPECT_EQ(load.by_status.at(200) + load.by_status.at(500), load.sent);
    const double share = static_cast<double>(failures) / static_cast<double>(load.sent);
    // 1/3 with a generous 5-sigma band for n >= 2000 (sigma ~ 0.011).
    EXPECT_NEAR(share, 1.0 / 3.0, 0.055) << failures << " of " << load.sent;
    EXPECT_EQ(bad_bodies, 0);
}

TEST(VideosApi, FlakyOffNeverFails) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), videos_env(db, {{"FLAKY", "false"}, {"FLAKY_RATE", "1"}}));
    const auto load = run_load(api.port(), "/myCcJJ_Fk10", 2, 1s);
    EXPECT_GT(load.sent, 100u);
    EXPECT_EQ(load.by_status.at(200), load.sent);
}

TEST(VideosApi, FlakyRateAndStatusAreConfigurable) {
    seeded_redis db("videos-db");
    service api(
        videos_api_binary(),
        videos_env(db, {{"FLAKY", "true"}, {"FLAKY_RATE", "1.0"}, {"FLAKY_STATUS", "503"}}));
    for (int i = 0; i < 20; ++i) {
        expect_json_error(http_get(api.port(), "/myCcJJ_Fk10"), 503);
    }
}

TEST(VideosApi, DebugEnvironmentAddsCorsAndAnswersPreflight) {
    seeded_redis db("videos-db");
    service debug(videos_api_binary(), videos_env(db, {{"ENVIRONMENT", "DEBUG"}}));
    const answer got = http_get(debug.port(), "/jM36M39MA3I");
    EXPECT_EQ(got.header("access-control-allow-origin"), "*");
    EXPECT_EQ(got.header("access-control-allow-methods"), "POST, GET, OPTIONS, PUT, DELETE");
    EXPECT_NE(got.header("access-control-allow-headers").find("Content-Type"), std::string::npos);
    const answer preflight = http_get(debug.port(), "/jM36M39MA3I", {}, http::verb::options);
    EXPECT_EQ(preflight.status, 204u);
    EXPECT_EQ(preflight.header("access-control-allow-origin"), "*");

    service plain(videos_api_binary(), videos_env(db));
    EXPECT_EQ(http_get(plain.port(), "/jM36M39MA3I").header("access-control-allow-origin"), "");
    EXPECT_EQ(http_get(plain.port(), "/jM36M39MA3I", {}, http::verb::options).status, 405u);
}

TEST(VideosApi, BadSettingsStopStartUpWithOneLineNamingTheVariable) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"PORT", "eighty"},      {"ADMIN_PORT", "0"},       {"REDIS_PORT", "99999"},
        {"REDIS_HOST", "a b"},   {"FLAKY", "maybe"},        {"FLAKY_RATE", "2"},
        {"FLAKY_STATUS", "200"}, {"FLAKY_MODE", "explode"}, {"LATENCY_MS", "soon"},
        {"LOG_LEVEL", "loud"},   {"THREADS", "0"},          {"BIND_ADDRESS", "not-an-ip"}};
    for (const auto& [name, value] : cases) {
        const temp_dir dir("bad-setting");
        child_process process({videos_api_binary()}, {{name, value}}, dir.path() + "/log");
        const auto code = process.wait_exit(5s);
        ASSERT_TRUE(code.has_value()) << name << " did not stop the service";
        EXPECT_NE(*code, 0) << name;
        const std::string log = process.log();
        EXPECT_NE(log.find(name), std::string::npos) << log;
        EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
    }
}
