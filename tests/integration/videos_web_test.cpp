// videos-web serving a real site directory and forwarding to a real playlists-api stand-in.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace harness;
namespace fs = std::filesystem;

namespace {

/** A site with a few files, a secret beside it, and a symlink pointing out. */
struct site_fixture {
    site_fixture() : root(make_temp_dir("web-root")) {
        fs::create_directories(root + "/site/img");
        std::ofstream(root + "/site/index.html") << "<!doctype html><title>catalog</title>";
        std::ofstream(root + "/site/app.js") << "console.log(1)";
        std::ofstream(root + "/site/style.css") << "body{}";
        std::ofstream(root + "/site/img/placeholder.svg") << "<svg/>";
        std::ofstream(root + "/secret.txt") << "secret";
        fs::create_symlink(root + "/secret.txt", root + "/site/link.txt");
    }
    ~site_fixture() { fs::remove_all(root); }
    std::string web_root() const { return root + "/site"; }
    std::string root;
};

} // namespace

TEST(VideosWeb, ServesTheSiteWithContentTypes) {
    site_fixture site;
    recording_server playlists([](const auto&) { return std::pair{200u, std::string("[]")}; });
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(playlists.port())}});
    const answer index = http_get(web.port(), "/");
    EXPECT_EQ(index.status, 200u);
    EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(index.body, "<!doctype html><title>catalog</title>");
    EXPECT_EQ(index.header("x-version"), "v1");
    EXPECT_EQ(http_get(web.port(), "/index.html").body, index.body);
    EXPECT_EQ(http_get(web.port(), "/app.js").header("content-type"),
              "text/javascript; charset=utf-8");
    EXPECT_EQ(http_get(web.port(), "/style.css").header("content-type"), "text/css; charset=utf-8");
    EXPECT_EQ(http_get(web.port(), "/img/placeholder.svg").header("content-type"), "image/svg+xml");
    EXPECT_EQ(http_get(web.port(), "/missing.js").status, 404u);
    EXPECT_EQ(http_get(web.port(), "/app.js", {}, http::verb::post).status, 405u);
    // Conditional requests.
    const std::string etag = index.header("etag");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(http_get(web.port(), "/", {{"If-None-Match", etag}}).status, 304u);
}

TEST(VideosWeb, NeverServesAFileOutsideTheRoot) {
    site_fixture site;
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()}, {"PLAYLISTS_API_URL", "http://127.0.0.1:1"}});
    for (const char* attempt :
         {"/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/img/../../secret.txt",
          "/link.txt", "/%2e%2e%5csecret.txt", "/....//secret.txt", "/%00"}) {
        const answer got = http_get(web.port(), attempt);
        EXPECT_NE(got.status, 200u) << attempt;
        EXPECT_EQ(got.body.find("secret"), std::string::npos) << attempt;
    }
    const std::string raw = raw_exchange(
        web.port(), "GET /../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(raw.find("secret\""), std::string::npos);
    EXPECT_NE(raw.find("404"), std::string::npos);
}

TEST(VideosWeb, HiddenFilesAndFoldersAreNeverServed) {
    site_fixture site;
    std::ofstream(site.web_root() + "/.env") << "PASSWORD=secret";
    fs::create_directories(site.web_root() + "/.git");
    std::ofstream(site.web_root() + "/.git/config") << "[remote] secret";
    std::ofstream(site.web_root() + "/img/.hidden.svg") << "secret";
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()}, {"PLAYLISTS_API_URL", "http://127.0.0.1:1"}});
    for (const char* attempt : {"/.env", "/.git/config", "/img/.hidden.svg", "/%2eenv"}) {
        const answer got = http_get(web.port(), attempt);
        EXPECT_EQ(got.status, 404u) << attempt;
        EXPECT_EQ(got.body.find("secret"), std::string::npos) << attempt;
    }
    EXPECT_EQ(http_get(web.port(), "/img/placeholder.svg").status, 200u);
}

TEST(VideosWeb, ForwardsApiPlaylistsWithStatusBodyAndHeaders) {
    site_fixture site;
    recording_server playlists([](const auto& request) {
        return std::pair{request.target() == "/" ? 200u : 404u,
                         std::string(R"([{"id":"1","name":"x","videos":[]}])")};
    });
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(playlists.port())}});
    const answer got = http_get(web.port(), "/api/playlists");
    EXPECT_EQ(got.status, 200u);
    EXPECT_EQ(got.body, R"([{"id":"1","name":"x","videos":[]}])");
    EXPECT_EQ(got.header("content-type"), "application/json");
    ASSERT_EQ(playlists.requests().size(), 1u);
    EXPECT_EQ(playlists.requests()[0].target(), "/");
}

TEST(VideosWeb, ForwardsTheOmittedCountFromTheRealPlaylistsApi) {
    site_fixture site;
    seeded_redis playlists_db("playlists-db");
    recording_server videos([](const auto& request) {
        if (request.target() == "/myCcJJ_Fk10") {
            return std::pair{500u, std::string(R"({"error":"injected"})")};
        }
        return std::pair{200u, R"({"id":")" + std::string(request.target().substr(1)) +
                                   R"(","title":"t"})"};
    });
    service playlists(playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(playlists_db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port())}});
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(playlists.port())}});
    const answer got = http_get(web.port(), "/api/playlists");
    EXPECT_EQ(got.status, 200u);
    EXPECT_EQ(got.header("x-videos-omitted"), "1");
    EXPECT_EQ(got.header("x-videos-total"), "9");
    EXPECT_EQ(nlohmann::json::parse(got.body).size(), 4u);
}

TEST(VideosWeb, AnOversizedPlaylistsAnswerIsSaidToBeTooLarge) {
    site_fixture site;
    recording_server playlists([](const auto&) {
        return std::pair{200u, "[" + std::string(9 * 1024 * 1024, ' ') + "]"};
    });
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(playlists.port())}});
    const answer got = http_get(web.port(), "/api/playlists");
    EXPECT_EQ(got.status, 502u);
    EXPECT_NE(got.body.find("too large"), std::string::npos) << got.body;
}

// A second service than the lifecycle test's: not ready from SIGTERM on, while still serving.
TEST(VideosWeb, NotReadyFromSigtermOnWhileStillServing) {
    site_fixture site;
    service web(videos_web_binary(), {{"WEB_ROOT", site.web_root()},
                                      {"PLAYLISTS_API_URL", "http://127.0.0.1:1"},
                                      {"SHUTDOWN_DELAY_MS", "2000"}});
    ASSERT_EQ(http_get(web.admin_port(), "/readyz").status, 200u);
    web.process().send(SIGTERM);
    EXPECT_TRUE(
        eventually([&] { return http_get(web.admin_port(), "/readyz").status == 503; }, 1s));
    EXPECT_NE(http_get(web.admin_port(), "/readyz").body.find("shutting down"), std::string::npos);
    EXPECT_EQ(http_get(web.port(), "/").status, 200u);
    const auto code = web.process().wait_exit(10s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);
}

TEST(VideosWeb, ASlowPlaylistsApiGives504) {
    site_fixture site;
    recording_server playlists([](const auto&) {
        std::this_thread::sleep_for(1s);
        return std::pair{200u, std::string("[]")};
    });
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(playlists.port())},
                 {"PLAYLISTS_API_TIMEOUT_MS", "300"}});
    const answer got = http_get(web.port(), "/api/playlists");
    EXPECT_EQ(got.status, 504u);
    EXPECT_NE(got.body.find("in time"), std::string::npos) << got.body;
}

TEST(VideosWeb, PlaylistsApiDownGives502) {
    site_fixture site;
    const auto closed_port = free_port();
    service web(videos_web_binary(),
                {{"WEB_ROOT", site.web_root()},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(closed_port)}});
    const answer got = http_get(web.port(), "/api/playlists");
    EXPECT_EQ(got.status, 502u);
    EXPECT_TRUE(nlohmann::json::parse(got.body).contains("error"));
}

TEST(VideosWeb, VersionIsServedAndSentAsAHeader) {
    site_fixture site;
    service web(videos_web_binary(), {{"WEB_ROOT", site.web_root()}, {"VERSION", "v2"}});
    const answer config = http_get(web.port(), "/config.json");
    EXPECT_EQ(config.status, 200u);
    EXPECT_EQ(nlohmann::json::parse(config.body)["version"], "v2");
    EXPECT_EQ(config.header("x-version"), "v2");
    EXPECT_EQ(http_get(web.port(), "/").header("x-version"), "v2");
}

TEST(VideosWeb, MissingWebRootStopsStartUp) {
    const temp_dir dir("bad-root");
    child_process process({videos_web_binary()}, {{"WEB_ROOT", dir.path() + "/nothing"}},
                          dir.path() + "/log");
    const auto code = process.wait_exit(5s);
    ASSERT_TRUE(code);
    EXPECT_NE(*code, 0);
    EXPECT_NE(process.log().find("WEB_ROOT"), std::string::npos);
}

// Served empty, an unreadable file would look like a working page with nothing in it. As root
// every file is readable, so videos-web runs as nobody (setpriv) over a file only root may read.
TEST(VideosWeb, AnUnreadableFileStopsStartUp) {
    site_fixture site;
    std::ofstream(site.web_root() + "/private.css") << "body{}";
    fs::permissions(site.root, fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
    fs::permissions(site.web_root() + "/private.css", fs::perms::owner_write);
    child_process process({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           videos_web_binary()},
                          {{"WEB_ROOT", site.web_root()},
                           {"PORT", std::to_string(free_port())},
                           {"ADMIN_PORT", std::to_string(free_port())}},
                          site.root + "/log");
    const auto code = process.wait_exit(5s);
    ASSERT_TRUE(code) << process.log();
    EXPECT_NE(*code, 0);
    EXPECT_NE(process.log().find("WEB_ROOT"), std::string::npos) << process.log();
    EXPECT_NE(process.log().find("private.css"), std::string::npos) << process.log();
}

TEST(VideosWeb, AnswersUnderItsBasePathAsWellAsAtTheRoot) {
    site_fixture site;
    service web(videos_web_binary(), {{"WEB_ROOT", site.web_root()}, {"BASE_PATH", "/home/"}});
    const std::string index = http_get(web.port(), "/").body;
    EXPECT_EQ(http_get(web.port(), "/home").body, index);
    EXPECT_EQ(http_get(web.port(), "/home/").body, index);
    EXPECT_EQ(http_get(web.port(), "/home/app.js").body, "console.log(1)");
    EXPECT_EQ(http_get(web.port(), "/app.js").body, "console.log(1)");
    EXPECT_EQ(http_get(web.port(), "/homepage").status, 404u);
    EXPECT_EQ(http_get(web.port(), "/home/../secret.txt").status, 404u);
}
