#include "meshdemo/metrics.hpp"

#include <gtest/gtest.h>

using namespace meshdemo;

TEST(Metrics, RendersCountersHistogramsAndInfo) {
    metrics_registry registry;
    auto& routes = registry.add_http_server({"/{id}", "other"});
    auto& errors = registry.add_counter("redis_command_errors_total", "Errors.");
    auto& calls =
        registry.add_histogram("http_client_request_duration_seconds", "Calls.", {{"peer", "v"}});
    registry.add_info("build_info", "Build.", {{"version", "1.0.0"}});
    routes.record(0, 200, std::chrono::microseconds(300));
    routes.record(0, 200, std::chrono::milliseconds(3));
    routes.record(routes.route_index("nope"), 404, std::chrono::milliseconds(1));
    errors.add(2);
    calls.observe(std::chrono::milliseconds(20));
    const std::string text = registry.render();
    EXPECT_NE(text.find("http_server_requests_total{route=\"/{id}\",status=\"200\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("http_server_requests_total{route=\"other\",status=\"404\"} 1\n"),
              std::string::npos);
    EXPECT_NE(
        text.find("http_server_request_duration_seconds_bucket{route=\"/{id}\",le=\"0.0005\"} 1\n"),
        std::string::npos);
    EXPECT_NE(
        text.find("http_server_request_duration_seconds_bucket{route=\"/{id}\",le=\"+Inf\"} 2\n"),
        std::string::npos);
    EXPECT_NE(text.find("http_server_request_duration_seconds_count{route=\"/{id}\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("redis_command_errors_total 2\n"), std::string::npos);
    EXPECT_NE(text.find("http_client_request_duration_seconds_bucket{peer=\"v\",le=\"0.025\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("# TYPE build_info gauge\nbuild_info{version=\"1.0.0\"} 1\n"),
              std::string::npos);
    EXPECT_EQ(routes.count("/{id}", 200), 2u);
}

TEST(Metrics, LabelValuesAreEscaped) {
    metrics_registry registry;
    registry.add_info("build_info", "Build.", {{"a", "x\"y\\z\n"}});
    EXPECT_NE(registry.render().find("build_info{a=\"x\\\"y\\\\z\\n\"} 1\n"), std::string::npos);
}
