#include "meshdemo/redis_worker.hpp"

namespace meshdemo {

redis_setup read_redis_setup(const settings_reader& reader, std::string_view default_host,
                             metrics_registry& registry) {
    redis_options options{reader.host("REDIS_HOST", default_host), reader.port("REDIS_PORT", 6379),
                          reader.milliseconds("REDIS_TIMEOUT_MS", 1000, 10, 60000)};
    counter& errors = registry.add_counter("redis_command_errors_total",
                                           "Redis commands that failed or could not be sent.");
    return {std::move(options), &errors};
}

} // namespace meshdemo
