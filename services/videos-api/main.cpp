// videos-api: answers GET /{id} with one video from the videos database.
#include "videos_handler.hpp"

#include "meshdemo/redis_workers.hpp"
#include "meshdemo/service_runtime.hpp"

#include <random>

using namespace meshdemo;

namespace {

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const std::uint16_t port = reader.port("PORT", 10010);
    const redis_options database = read_redis_options(reader, "videos-db");
    const bool debug_cors = reader.text("ENVIRONMENT", "") == "DEBUG";
    const fault_settings fault_plan = read_fault_settings(reader);
    const auto seed = static_cast<std::uint64_t>(reader.integer(
        "FLAKY_SEED", static_cast<std::int64_t>(std::random_device{}() >> 1), 0, INT64_MAX));

    const videos_api::videos_metrics counters{runtime.metrics().add_counter(
        "fault_injected_failures_total", "Requests failed on purpose (FLAKY).")};
    const auto redis = start_redis_clients(runtime, database);
    runtime.serve(port, {"/{id}", "other"}, [&](std::size_t worker) -> request_handler {
        auto& faults = runtime.make_owned<fault_injector>(fault_plan, seed + worker);
        auto& handler = runtime.make_owned<videos_api::videos_handler>(*redis[worker], faults,
                                                                       counters, debug_cors);
        return [&handler](const http_request& request, request_context& context) {
            return handler(request, context);
        };
    });
    runtime.set_readiness_check([first = redis.front()] { return redis_unready_reason(*first); });
}

} // namespace

int main(int argc, char** argv) {
    return run_service("videos-api", argc, argv, set_up);
}
