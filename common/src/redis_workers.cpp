#include "meshdemo/redis_workers.hpp"

namespace meshdemo {

redis_options read_redis_options(const settings_reader& reader, std::string_view default_host) {
    return {reader.host("REDIS_HOST", default_host), reader.port("REDIS_PORT", 6379),
            reader.milliseconds("REDIS_TIMEOUT_MS", 1000, 10, 60000)};
}

std::vector<redis_client*> start_redis_clients(service_runtime& runtime,
                                               const redis_options& options) {
    auto& errors = runtime.metrics().add_counter(
        "redis_command_errors_total", "Redis commands that failed or could not be sent.");
    std::vector<redis_client*> clients;
    for (std::size_t i = 0; i < runtime.worker_count(); ++i) {
        clients.push_back(&runtime.make_owned<redis_client>(runtime.worker(i), options, errors));
        clients.back()->start();
    }
    runtime.on_stop([clients](std::size_t worker) { clients[worker]->stop(); });
    return clients;
}

asio::awaitable<std::string> redis_unready_reason(redis_client& redis) {
    const redis_reply pong = co_await redis.ping();
    co_return pong.type == redis_reply::kind::value ? std::string{} : pong.text;
}

} // namespace meshdemo
