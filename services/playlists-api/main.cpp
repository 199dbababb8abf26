// playlists-api: answers GET / with the playlists and their videos, fetched from videos-api.
#include "playlists_handler.hpp"

#include "meshdemo/service_runtime.hpp"

using namespace meshdemo;

namespace {

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const std::uint16_t port = reader.port("PORT", 10010);
    const redis_options database{reader.host("REDIS_HOST", "playlists-db"),
                                 reader.port("REDIS_PORT", 6379),
                                 reader.milliseconds("REDIS_TIMEOUT_MS", 1000, 10, 60000)};
    const http_url videos_api = reader.url("VIDEOS_API_URL", "http://videos-api:10010");
    const playlists_api::fanout_settings fanout{
        reader.milliseconds("VIDEOS_API_TIMEOUT_MS", 1000, 1, 600000),
        static_cast<std::size_t>(reader.integer("FANOUT_LIMIT", 32, 1, 1024))};
    const auto pool_size =
        static_cast<std::size_t>(reader.integer("VIDEOS_API_POOL_SIZE", 256, 0, 65536));
    const bool debug_cors = reader.text("ENVIRONMENT", "") == "DEBUG";

    auto& metrics = runtime.metrics();
    auto& redis_errors = metrics.add_counter("redis_command_errors_total",
                                             "Redis commands that failed or could not be sent.");
    const auto counters = playlists_api::add_playlists_metrics(metrics);

    std::vector<redis_client*> redis;
    std::vector<http_client*> videos;
    for (std::size_t i = 0; i < runtime.worker_count(); ++i) {
        redis.push_back(
            &runtime.make_owned<redis_client>(runtime.worker(i), database, redis_errors));
        redis.back()->start();
        videos.push_back(
            &runtime.make_owned<http_client>(runtime.worker(i), videos_api, pool_size));
    }
    runtime.serve(port, {"/", "other"}, [&](std::size_t worker) -> request_handler {
        auto& handler = runtime.make_owned<playlists_api::playlists_handler>(
            *redis[worker], *videos[worker], fanout, counters, debug_cors);
        return [&handler](const http_request& request, request_context& context) {
            return handler(request, context);
        };
    });
    runtime.set_readiness_check([first_redis = redis.front(),
                                 first_videos = videos.front()]() -> asio::awaitable<std::string> {
        const redis_reply pong = co_await first_redis->ping();
        if (pong.type != redis_reply::kind::value) {
            co_return pong.text;
        }
        if (!co_await first_videos->reachable(std::chrono::milliseconds(500))) {
            co_return "videos-api at " + first_videos->peer().authority() + " cannot be reached";
        }
        co_return std::string{};
    });
    runtime.on_stop([redis](std::size_t worker) { redis[worker]->stop(); });
}

} // namespace

int main() {
    return run_service("playlists-api", set_up);
}
