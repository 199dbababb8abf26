// playlists-api: answers GET / with the playlists and their videos, fetched from videos-api.
#include "playlists_handler.hpp"

#include "meshdemo/redis_workers.hpp"
#include "meshdemo/service_runtime.hpp"

using namespace meshdemo;

namespace {

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const std::uint16_t port = reader.port("PORT", 10010);
    const redis_options database = read_redis_options(reader, "playlists-db");
    const http_url videos_api = reader.url("VIDEOS_API_URL", "http://videos-api:10010");
    const playlists_api::fanout_settings fanout{
        reader.milliseconds("VIDEOS_API_TIMEOUT_MS", 1000, 1, 600000),
        static_cast<std::size_t>(reader.integer("FANOUT_LIMIT", 32, 1, 1024)),
        reader.milliseconds("REQUEST_BUDGET_MS", 4000, 1, 600000),
        static_cast<std::size_t>(reader.integer("MAX_VIDEOS", 1000, 1, 100000))};
    http_client_options videos_api_options;
    videos_api_options.max_connections =
        static_cast<std::size_t>(reader.integer("VIDEOS_API_CONNECTIONS", 64, 1, 65536));
    videos_api_options.max_answer_bytes =
        static_cast<std::size_t>(reader.integer("MAX_VIDEO_BYTES", 65536, 1024, 8 * 1024 * 1024));
    const bool debug_cors = reader.text("ENVIRONMENT", "") == "DEBUG";

    const auto counters = playlists_api::add_playlists_metrics(runtime.metrics());
    const auto redis = start_redis_clients(runtime, database);
    std::vector<http_client*> videos;
    for (std::size_t i = 0; i < runtime.worker_count(); ++i) {
        videos.push_back(
            &runtime.make_owned<http_client>(runtime.worker(i), videos_api, videos_api_options));
    }
    runtime.serve(port, {"/", "other"}, [&](std::size_t worker) -> request_handler {
        auto& handler = runtime.make_owned<playlists_api::playlists_handler>(
            *redis[worker], *videos[worker], fanout, counters, debug_cors);
        return [&handler](const http_request& request, request_context& context) {
            return handler(request, context);
        };
    });
    // Ready when this pod can answer: its own database. Not videos-api: without it the answer
    // is a partial catalog, and an outage there must not take playlists-api out of its Service.
    runtime.set_readiness_check([first_redis = redis.front()]() -> asio::awaitable<std::string> {
        co_return co_await redis_unready_reason(*first_redis);
    });
}

} // namespace

int main(int argc, char** argv) {
    return run_service("playlists-api", argc, argv, set_up);
}
