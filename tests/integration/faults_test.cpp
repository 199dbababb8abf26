// Faults the demo can trust: no hidden retries, deadlines that hold through name resolution and
// Redis connects, one budget per playlists request, and answers that are counted for what they are.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace harness;
using nlohmann::json;

namespace {

/** A file descriptor closed when it goes. */
struct owned_fd {
    int fd = -1;
    explicit owned_fd(int value) : fd(value) {}
    ~owned_fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    owned_fd(const owned_fd&) = delete;
    owned_fd& operator=(const owned_fd&) = delete;
};

sockaddr_in loopback(const char* address, std::uint16_t port) {
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &where.sin_addr);
    return where;
}

double client_calls(const std::string& metrics, const std::string& outcome) {
    return metric_value(metrics, R"(http_client_requests_total{outcome=")" + outcome +
                                     R"(",peer="videos-api"})");
}

/** Both APIs and their databases on loopback; videos-api with the given extra settings. */
struct catalog_apis {
    explicit catalog_apis(env_map videos_env, env_map playlists_env = {})
        : videos(videos_api_binary(), with_db(std::move(videos_env), videos_db)),
          playlists(playlists_api_binary(),
                    with_db(with_peer(std::move(playlists_env)), playlists_db)) {}
    static env_map with_db(env_map env, const seeded_redis& db) {
        env.emplace("REDIS_HOST", "127.0.0.1");
        env.emplace("REDIS_PORT", std::to_string(db.port()));
        return env;
    }
    env_map with_peer(env_map env) const {
        env.emplace("VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port()));
        return env;
    }
    seeded_redis playlists_db{"playlists-db"};
    seeded_redis videos_db{"videos-db"};
    service videos;
    service playlists;
};

/** A script in dir that runs binary in a private mount namespace whose resolv.conf names only
 * the given name server (on loopback), so that a test decides how name lookups go. */
std::string with_name_server(const std::string& dir, const std::string& address, int attempts,
                             const std::string& binary) {
    std::ofstream(dir + "/resolv.conf")
        << "nameserver " << address << "\noptions timeout:5 attempts:" << attempts << "\n";
    const std::string wrapper = dir + "/run-with-name-server";
    std::ofstream(wrapper) << "#!/bin/sh\nexec unshare --mount sh -c 'mount --bind \"$0\" "
                              "/etc/resolv.conf && exec \"$1\"' "
                           << dir << "/resolv.conf " << binary << "\n";
    ::chmod(wrapper.c_str(), 0755);
    return wrapper;
}

/** Videos present in a catalog answer. */
std::size_t videos_in(const answer& got) {
    std::size_t present = 0;
    for (const auto& playlist : json::parse(got.body)) {
        present += playlist["videos"].size();
    }
    return present;
}

} // namespace

// A connection videos-api drops on purpose must count as one failure, never be retried: over
// 2,250 video calls, what playlists-api counts as failed is exactly what videos-api injected.
TEST(Faults, DroppedConnectionsAreExactlyTheInjectedFailuresNoRetry) {
    catalog_apis apis({{"FLAKY", "true"},
                       {"FLAKY_MODE", "drop"},
                       {"FLAKY_RATE", "0.5"},
                       {"FLAKY_SEED", "7"},
                       {"THREADS", "1"}},
                      {{"THREADS", "1"}});
    constexpr std::size_t requests = 250;
    std::size_t omitted = 0;
    for (std::size_t i = 0; i < requests; ++i) {
        const answer got = http_get(apis.playlists.port(), "/");
        ASSERT_EQ(got.status, 200u) << got.error << got.body;
        omitted += std::stoul(got.header("x-videos-omitted"));
        ASSERT_EQ(videos_in(got) + std::stoul(got.header("x-videos-omitted")), 9u);
    }
    const std::string videos_metrics = http_get(apis.videos.admin_port(), "/metrics").body;
    const std::string playlists_metrics = http_get(apis.playlists.admin_port(), "/metrics").body;
    const double injected = metric_value(videos_metrics, "fault_injected_failures_total");
    const double calls = requests * 9.0;
    // Every call reached videos-api once: a resent request would show up here (dropped ones
    // have no status, but are timed like every other).
    EXPECT_EQ(metric_value(videos_metrics,
                           R"(http_server_request_duration_seconds_count{route="/{id}"})"),
              calls);
    EXPECT_EQ(client_calls(playlists_metrics, "connection_error"), injected);
    EXPECT_EQ(client_calls(playlists_metrics, "ok") + injected, calls);
    EXPECT_EQ(static_cast<double>(omitted), injected);
    EXPECT_NEAR(static_cast<double>(omitted) / calls, 0.5, 0.03);
}

// Without a retry, a keep-alive connection the peer closed while idle must be noticed before a
// request is sent on it: pauses longer than videos-api's idle timeout leave nothing out.
TEST(Faults, ConnectionsThePeerClosedWhileIdleLeaveNothingOut) {
    catalog_apis apis({{"IDLE_TIMEOUT_MS", "200"}, {"THREADS", "1"}}, {{"THREADS", "1"}});
    for (int i = 0; i < 5; ++i) {
        const answer got = http_get(apis.playlists.port(), "/");
        ASSERT_EQ(got.status, 200u);
        EXPECT_EQ(got.header("x-videos-omitted"), "0") << "after pause " << i;
        std::this_thread::sleep_for(500ms);
    }
    const std::string playlists_metrics = http_get(apis.playlists.admin_port(), "/metrics").body;
    EXPECT_EQ(client_calls(playlists_metrics, "connection_error"), 0);
    EXPECT_EQ(client_calls(playlists_metrics, "ok"), 45);
}

// A name server that never answers costs one call timeout per request, not one per video: all
// calls share one lookup, and it runs inside their deadlines. The service runs in a private
// mount namespace whose resolv.conf points at a loopback UDP socket that reads nothing.
TEST(Faults, AHangingNameServerCostsOneTimeoutNotOnePerVideo) {
    const owned_fd silent(::socket(AF_INET, SOCK_DGRAM, 0));
    const sockaddr_in where = loopback("127.77.0.53", 53);
    ASSERT_EQ(::bind(silent.fd, reinterpret_cast<const sockaddr*>(&where), sizeof where), 0)
        << "cannot bind 127.77.0.53:53 (the test needs root)";
    const temp_dir scratch("smdemo-dns");
    const std::string& dir = scratch.path();
    seeded_redis db("playlists-db");
    {
        service playlists(with_name_server(dir, "127.77.0.53", 2, playlists_api_binary()),
                          {{"REDIS_HOST", "127.0.0.1"},
                           {"REDIS_PORT", std::to_string(db.port())},
                           {"VIDEOS_API_URL", "http://videos-api.hanging-dns.test:10010"},
                           {"VIDEOS_API_TIMEOUT_MS", "1000"},
                           {"THREADS", "1"}});
        for (int i = 0; i < 2; ++i) {
            const auto started = std::chrono::steady_clock::now();
            const answer got = http_get(playlists.port(), "/", {}, http::verb::get, 20s);
            const auto took = std::chrono::steady_clock::now() - started;
            ASSERT_EQ(got.status, 200u) << got.error;
            EXPECT_EQ(got.header("x-videos-omitted"), "9");
            EXPECT_LT(took, 2500ms) << "request " << i;
        }
        const std::string metrics = http_get(playlists.admin_port(), "/metrics").body;
        EXPECT_EQ(client_calls(metrics, "timeout"), 18);
    }
}

// A name server slower than REDIS_TIMEOUT_MS must not keep Redis away for ever: the lookup goes
// on after the attempt that began it gave up, and the next attempt connects to its address.
TEST(Faults, RedisIsReachedThroughANameServerSlowerThanTheTimeout) {
    const temp_dir scratch("smdemo-slow-dns");
    const std::string& dir = scratch.path();
    child_process dns({"/usr/bin/python3", source_dir() + "/tests/integration/tools/slow_dns.py",
                       "127.77.0.54", "0.6"},
                      {}, dir + "/dns.log");
    seeded_redis db("videos-db");
    {
        service api(with_name_server(dir, "127.77.0.54", 1, videos_api_binary()),
                    {{"REDIS_HOST", "videos-db.slow-dns.test"},
                     {"REDIS_PORT", std::to_string(db.port())},
                     {"REDIS_TIMEOUT_MS", "200"},
                     {"LOG_FORMAT", "text"},
                     {"THREADS", "1"}},
                    false);
        EXPECT_TRUE(
            eventually([&] { return http_get(api.admin_port(), "/readyz").status == 200; }, 10s))
            << api.log();
        EXPECT_EQ(http_get(api.port(), "/jM36M39MA3I").status, 200u);
    }
}

// A Redis host that never completes the TCP handshake (a full accept queue drops every SYN)
// must give up within REDIS_TIMEOUT_MS and back off, not wait for the kernel's two minutes.
TEST(Faults, RedisConnectGivesUpWithinTheTimeout) {
    const owned_fd listener(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in where = loopback("127.0.0.1", 0);
    ASSERT_EQ(::bind(listener.fd, reinterpret_cast<const sockaddr*>(&where), sizeof where), 0);
    ASSERT_EQ(::listen(listener.fd, 0), 0);
    socklen_t length = sizeof where;
    ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&where), &length);
    // Fill the accept queue (never accepted): later SYNs are dropped, connects hang.
    std::vector<std::unique_ptr<owned_fd>> fillers;
    for (int i = 0; i < 4; ++i) {
        fillers.push_back(
            std::make_unique<owned_fd>(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)));
        ::connect(fillers.back()->fd, reinterpret_cast<const sockaddr*>(&where), sizeof where);
    }
    std::this_thread::sleep_for(200ms);
    service api(videos_api_binary(),
                {{"REDIS_HOST", "127.0.0.1"},
                 {"REDIS_PORT", std::to_string(ntohs(where.sin_port))},
                 {"REDIS_TIMEOUT_MS", "300"},
                 {"LOG_FORMAT", "text"},
                 {"THREADS", "1"}},
                false);
    EXPECT_TRUE(eventually(
        [&] { return api.log().find("not connected within the timeout") != std::string::npos; },
        3s))
        << api.log();
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(http_get(api.port(), "/jM36M39MA3I").status, 503u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    EXPECT_EQ(http_get(api.admin_port(), "/readyz").status, 503u);
}

// One budget for all video calls of a request: slow calls are cut off when it runs out, their
// videos left out and counted, and the answer arrives before videos-web would give up.
TEST(Faults, TheRequestBudgetCutsOffSlowCalls) {
    catalog_apis apis(
        {{"LATENCY_MS", "3000"}},
        {{"VIDEOS_API_TIMEOUT_MS", "10000"}, {"REQUEST_BUDGET_MS", "500"}, {"FANOUT_LIMIT", "2"}});
    const auto started = std::chrono::steady_clock::now();
    const answer got = http_get(apis.playlists.port(), "/", {}, http::verb::get, 10s);
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(got.status, 200u) << got.error;
    EXPECT_EQ(got.header("x-videos-omitted"), "9");
    EXPECT_LT(took, 1500ms);
    EXPECT_GE(took, 450ms);
    const std::string metrics = http_get(apis.playlists.admin_port(), "/metrics").body;
    EXPECT_EQ(metric_value(metrics, "playlists_videos_omitted_total"), 9);
    // Two calls were in flight when the budget ran out; the other seven were never sent.
    EXPECT_EQ(client_calls(metrics, "timeout"), 2);
}

TEST(Faults, MoreVideosThanMaxVideosIsAClearError) {
    catalog_apis apis({}, {{"MAX_VIDEOS", "2"}});
    const answer got = http_get(apis.playlists.port(), "/");
    EXPECT_EQ(got.status, 500u);
    EXPECT_NE(got.body.find("MAX_VIDEOS"), std::string::npos) << got.body;
}

// An answer that is not a video is counted as what it is, not as a success.
TEST(Faults, AnswersThatAreNotVideosAreCountedInvalid) {
    seeded_redis db("playlists-db");
    std::atomic<int> served{0};
    recording_server videos([&](const auto&) {
        switch (served++ % 3) {
        case 0:
            return std::pair{200u, std::string("not a video")};
        case 1:
            return std::pair{302u, std::string("{}")};
        default: // a real-looking video, larger than MAX_VIDEO_BYTES
            return std::pair{200u, R"({"id":"x","title":")" + std::string(2000, 't') + "\"}"};
        }
    });
    service playlists(playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port())},
                       {"MAX_VIDEO_BYTES", "1024"}});
    const answer got = http_get(playlists.port(), "/");
    ASSERT_EQ(got.status, 200u);
    EXPECT_EQ(got.header("x-videos-omitted"), "9");
    const std::string metrics = http_get(playlists.admin_port(), "/metrics").body;
    EXPECT_EQ(client_calls(metrics, "invalid"), 9);
    EXPECT_EQ(client_calls(metrics, "ok"), 0);
}

// The same count by a second way than the flaky load test: every answer a 500.
TEST(Faults, ServerErrorsAreCountedAsSuchAndTheirVideosLeftOut) {
    seeded_redis db("playlists-db");
    recording_server videos([](const auto&) {
        return std::pair{500u, std::string(R"({"error":"injected"})")};
    });
    service playlists(playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port())}});
    for (int i = 0; i < 2; ++i) {
        const answer got = http_get(playlists.port(), "/");
        ASSERT_EQ(got.status, 200u);
        EXPECT_EQ(got.header("x-videos-omitted"), "9");
        EXPECT_EQ(videos_in(got), 0u);
    }
    const std::string metrics = http_get(playlists.admin_port(), "/metrics").body;
    EXPECT_EQ(client_calls(metrics, "5xx"), 18);
    EXPECT_EQ(metric_value(metrics, "playlists_videos_omitted_total"), 18);
    EXPECT_EQ(videos.requests().size(), 18u) << "a failed call was sent again";
}

// Readiness says whether this pod can serve: with videos-api gone, playlists-api stays ready
// and answers the partial catalog the design promises.
TEST(Faults, PlaylistsApiStaysReadyWithoutVideosApi) {
    seeded_redis db("playlists-db");
    service playlists(playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(free_port())}});
    EXPECT_EQ(http_get(playlists.admin_port(), "/readyz").status, 200u);
    const answer got = http_get(playlists.port(), "/");
    EXPECT_EQ(got.status, 200u);
    EXPECT_EQ(got.header("x-videos-omitted"), "9");
    db.stop();
    EXPECT_TRUE(
        eventually([&] { return http_get(playlists.admin_port(), "/readyz").status == 503; }, 5s));
}
