// videos-api: answers GET /{id} with one video from the videos database.
#include "videos_handler.hpp"

#include "meshdemo/service_runtime.hpp"

#include <random>

using namespace meshdemo;

namespace {

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const std::uint16_t port = reader.port("PORT", 10010);
    const redis_options database{reader.host("REDIS_HOST", "videos-db"),
                                 reader.port("REDIS_PORT", 6379),
                                 reader.milliseconds("REDIS_TIMEOUT_MS", 1000, 10, 60000)};
    const bool debug_cors = reader.text("ENVIRONMENT", "") == "DEBUG";
    const fault_settings fault_plan = read_fault_settings(reader);
    const auto seed = static_cast<std::uint64_t>(reader.integer(
        "FLAKY_SEED", static_cast<std::int64_t>(std::random_device{}() >> 1), 0, INT64_MAX));

    auto& metrics = runtime.metrics();
    auto& redis_errors = metrics.add_counter("redis_command_errors_total",
                                             "Redis commands that failed or could not be sent.");
    const videos_api::videos_metrics counters{metrics.add_counter(
        "fault_injected_failures_total", "Requests failed on purpose (FLAKY).")};

    std::vector<redis_client*> redis;
    for (std::size_t i = 0; i < runtime.worker_count(); ++i) {
        redis.push_back(
            &runtime.make_owned<redis_client>(runtime.worker(i), database, redis_errors));
        redis.back()->start();
    }
    runtime.serve(port, {"/{id}", "other"}, [&](std::size_t worker) -> request_handler {
        auto& faults = runtime.make_owned<fault_injector>(fault_plan, seed + worker);
        auto& handler = runtime.make_owned<videos_api::videos_handler>(*redis[worker], faults,
                                                                       counters, debug_cors);
        return [&handler](const http_request& request, request_context& context) {
            return handler(request, context);
        };
    });
    runtime.set_readiness_check([first = redis.front()]() -> asio::awaitable<std::string> {
        const redis_reply pong = co_await first->ping();
        co_return pong.type == redis_reply::kind::value ? std::string{} : pong.text;
    });
    runtime.on_stop([redis](std::size_t worker) { redis[worker]->stop(); });
}

} // namespace

int main() {
    return run_service("videos-api", set_up);
}
