// Trace context propagation, request ids in logs, and Prometheus metrics that count exactly.
#include "harness.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <sstream>

using namespace harness;
namespace asio = boost::asio;
using nlohmann::json;

namespace {

const header_list trace_headers{
    {"x-request-id", "req-123"},
    {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    {"tracestate", "congo=t61rcWkgMzE"},
    {"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"},
    {"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
    {"x-b3-spanid", "e457b5a2e4d86bd1"},
    {"x-b3-parentspanid", "05e3ac9a4f6e3b90"},
    {"x-b3-sampled", "1"},
    {"x-b3-flags", "1"},
    {"x-ot-span-context", "abc;def"},
    {"l5d-ctx-trace", "linkerd-trace"},
    {"l5d-ctx-deadline", "soon"}};

std::string video_answer(const http::request<http::string_body>& request) {
    return R"({"id":")" + std::string(request.target().substr(1)) + R"(","title":"t"})";
}

void expect_all_trace_headers(const http::request<http::string_body>& request) {
    for (const auto& [name, value] : trace_headers) {
        EXPECT_EQ(request[name], value) << name << " missing on " << request.target();
    }
}

/** Checks every line is a comment or a valid sample of the Prometheus text format. */
void expect_prometheus_text(const std::string& text) {
    static const std::regex sample(
        R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9.eE+-]+$)");
    static const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
    std::istringstream lines(text);
    std::string line;
    std::size_t samples = 0;
    while (std::getline(lines, line)) {
        const bool ok = std::regex_match(line, comment) || std::regex_match(line, sample);
        EXPECT_TRUE(ok) << "not Prometheus text: " << line;
        samples += line.rfind('#', 0) == 0 ? 0u : 1u;
    }
    EXPECT_GT(samples, 0u);
}

/** playlists-api on a real database, calling a recording double of videos-api. */
struct playlists_with_recorded_videos {
    seeded_redis db{"playlists-db"};
    recording_server videos{[](const auto& request) {
        return std::pair{200u, video_answer(request)};
    }};
    service playlists{playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port())}}};
};

} // namespace

TEST(Observability, PlaylistsApiCopiesTraceHeadersOntoEveryVideoCall) {
    playlists_with_recorded_videos stack;
    auto& playlists = stack.playlists;
    auto& videos = stack.videos;
    const answer got = http_get(playlists.port(), "/", trace_headers);
    ASSERT_EQ(got.status, 200u);
    EXPECT_EQ(got.header("x-request-id"), "req-123");
    const auto calls = videos.requests();
    ASSERT_EQ(calls.size(), 9u);
    for (const auto& call : calls) {
        expect_all_trace_headers(call);
    }
    EXPECT_TRUE(eventually(
        [&] { return playlists.log().find(R"("request_id":"req-123")") != std::string::npos; },
        3s));
}

TEST(Observability, VideosWebCopiesTraceHeadersOntoTheForwardedCall) {
    recording_server playlists([](const auto&) { return std::pair{200u, std::string("[]")}; });
    service web(videos_web_binary(),
                {{"WEB_ROOT", source_dir() + "/web"},
                 {"PLAYLISTS_API_URL", "http://127.0.0.1:" + std::to_string(playlists.port())}});
    ASSERT_EQ(http_get(web.port(), "/api/playlists", trace_headers).status, 200u);
    ASSERT_EQ(playlists.requests().size(), 1u);
    expect_all_trace_headers(playlists.requests()[0]);
}

TEST(Observability, ARequestWithoutAnIdGetsOneThatTravelsAndIsLogged) {
    playlists_with_recorded_videos stack;
    auto& playlists = stack.playlists;
    auto& videos = stack.videos;
    const answer got = http_get(playlists.port(), "/");
    const std::string id = got.header("x-request-id");
    ASSERT_EQ(id.size(), 32u);
    for (const auto& call : videos.requests()) {
        EXPECT_EQ(call["x-request-id"], id);
    }
    // The request's log line is one JSON object with every field.
    std::string line;
    ASSERT_TRUE(eventually(
        [&] {
            std::istringstream lines(playlists.log());
            while (std::getline(lines, line)) {
                if (line.find(id) != std::string::npos &&
                    line.find(R"("msg":"request")") != std::string::npos) {
                    return true;
                }
            }
            return false;
        },
        3s));
    const json entry = json::parse(line);
    for (const char* field :
         {"time", "level", "service", "request_id", "method", "path", "status", "duration_ms"}) {
        EXPECT_TRUE(entry.contains(field)) << field << " in " << line;
    }
    EXPECT_EQ(entry["service"], "playlists-api");
    EXPECT_EQ(entry["status"], 200);
}

TEST(Observability, MetricsAreValidPrometheusTextAndCountExactly) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(),
                {{"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(db.port())}});
    const std::string ok_series = R"(http_server_requests_total{route="/{id}",status="200"})";
    const std::string missing_series = R"(http_server_requests_total{route="/{id}",status="404"})";
    const answer before = http_get(api.admin_port(), "/metrics");
    ASSERT_EQ(before.status, 200u);
    EXPECT_EQ(before.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    expect_prometheus_text(before.body);
    for (int i = 0; i < 37; ++i) {
        ASSERT_EQ(http_get(api.port(), "/jM36M39MA3I").status, 200u);
    }
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(http_get(api.port(), "/nope").status, 404u);
    }
    const answer after = http_get(api.admin_port(), "/metrics");
    expect_prometheus_text(after.body);
    EXPECT_EQ(metric_value(after.body, ok_series) - metric_value(before.body, ok_series), 37);
    EXPECT_EQ(metric_value(after.body, missing_series) - metric_value(before.body, missing_series),
              5);
    EXPECT_EQ(
        metric_value(after.body, R"(http_server_request_duration_seconds_count{route="/{id}"})"),
        42);
    EXPECT_EQ(metric_value(after.body, R"(build_info{service="videos-api",version="1.0.0"})"), 1);

    db.stop();
    EXPECT_EQ(http_get(api.port(), "/jM36M39MA3I").status, 503u);
    EXPECT_GE(
        metric_value(http_get(api.admin_port(), "/metrics").body, "redis_command_errors_total"), 1);
}

TEST(Observability, FlakyLoadOmissionsAgreeWithInjectedFailures) {
    seeded_redis playlists_db("playlists-db");
    seeded_redis videos_db("videos-db");
    service videos(videos_api_binary(), {{"REDIS_HOST", "127.0.0.1"},
                                         {"REDIS_PORT", std::to_string(videos_db.port())},
                                         {"FLAKY", "true"}});
    service playlists(playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(playlists_db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port())}});
    std::atomic<std::size_t> omitted{0};
    std::atomic<std::size_t> invalid{0};
    const auto load = run_load(playlists.port(), "/", 8, 3s, [&](const answer& got) {
        const json body = json::parse(got.body, nullptr, false);
        if (got.status != 200 || !body.is_array()) {
            ++invalid;
            return;
        }
        std::size_t present = 0;
        for (const auto& playlist : body) {
            present += playlist["videos"].size();
        }
        const auto left_out = std::stoul(got.header("x-videos-omitted"));
        if (present + left_out != 9) {
            ++invalid;
        }
        omitted += left_out;
    });
    EXPECT_GT(load.sent, 100u);
    EXPECT_EQ(load.failed, 0u);
    EXPECT_EQ(invalid, 0u);
    EXPECT_TRUE(videos.process().running());
    EXPECT_TRUE(playlists.process().running());
    const std::string videos_metrics = http_get(videos.admin_port(), "/metrics").body;
    const std::string playlists_metrics = http_get(playlists.admin_port(), "/metrics").body;
    const double injected = metric_value(videos_metrics, "fault_injected_failures_total");
    EXPECT_GT(injected, 0);
    EXPECT_EQ(static_cast<double>(omitted.load()), injected);
    EXPECT_EQ(metric_value(playlists_metrics, "playlists_videos_omitted_total"), injected);
    EXPECT_EQ(metric_value(playlists_metrics,
                           R"(http_client_requests_total{outcome="5xx",peer="videos-api"})"),
              injected);
    EXPECT_EQ(metric_value(playlists_metrics,
                           R"(http_client_requests_total{outcome="ok",peer="videos-api"})") +
                  injected,
              static_cast<double>(load.sent * 9));
}

TEST(Observability, ProbesLiveOnTheAdminPortOnly) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(),
                {{"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(db.port())}});
    EXPECT_EQ(http_get(api.admin_port(), "/healthz").status, 200u);
    EXPECT_EQ(http_get(api.admin_port(), "/readyz").status, 200u);
    // On the main port these are just video ids that do not exist.
    EXPECT_EQ(http_get(api.port(), "/healthz").status, 404u);
    EXPECT_EQ(http_get(api.port(), "/metrics").status, 404u);
}

// The health check of an image without a shell: the executable asks its own /readyz.
TEST(Observability, TheProbeFlagSaysWhetherTheRunningServiceIsReady) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(),
                {{"REDIS_HOST", "127.0.0.1"}, {"REDIS_PORT", std::to_string(db.port())}});
    const auto probe = [&](std::uint16_t admin_port) {
        const std::string dir = make_temp_dir("probe");
        child_process process({videos_api_binary(), "--probe"},
                              {{"ADMIN_PORT", std::to_string(admin_port)}}, dir + "/log");
        const auto code = process.wait_exit(5s);
        std::filesystem::remove_all(dir);
        return code.value_or(-1);
    };
    EXPECT_EQ(probe(api.admin_port()), 0);
    EXPECT_EQ(probe(free_port()), 1); // nothing listens there
    // A port that takes the connection and never answers: the probe gives up within its limit.
    asio::io_context io;
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(probe(silent.local_endpoint().port()), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
    db.stop();
    EXPECT_TRUE(eventually([&] { return probe(api.admin_port()) == 1; }, 5s)); // not ready
}

TEST(Observability, CallsToVideosApiReuseAFewKeepAliveConnections) {
    seeded_redis db("playlists-db");
    recording_server videos([](const auto& request) {
        return std::pair{200u, video_answer(request)};
    });
    service playlists(playlists_api_binary(),
                      {{"REDIS_HOST", "127.0.0.1"},
                       {"REDIS_PORT", std::to_string(db.port())},
                       {"VIDEOS_API_URL", "http://127.0.0.1:" + std::to_string(videos.port())},
                       {"THREADS", "1"},
                       {"VIDEOS_API_CONNECTIONS", "2"}});
    for (int i = 0; i < 5; ++i) {
        const answer got = http_get(playlists.port(), "/");
        ASSERT_EQ(got.status, 200u);
        EXPECT_EQ(got.header("x-videos-omitted"), "0");
    }
    // 45 calls, nine at a time per answer, over at most two connections kept alive.
    EXPECT_LE(videos.connections_used(), 2u);
    EXPECT_GE(videos.requests().size(), 45u);
}
