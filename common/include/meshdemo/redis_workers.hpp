#pragma once

#include "meshdemo/redis_client.hpp"
#include "meshdemo/service_runtime.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace meshdemo {

/** REDIS_HOST (default_host unless set), REDIS_PORT (6379), REDIS_TIMEOUT_MS (1000). */
redis_options read_redis_options(const settings_reader& reader, std::string_view default_host);

/** One Redis client per worker thread, connecting now and stopped with the service. Failed
 * commands are counted in redis_command_errors_total. */
std::vector<redis_client*> start_redis_clients(service_runtime& runtime,
                                               const redis_options& options);

/** Empty when Redis answers a PING, otherwise why not: the Redis part of a readiness check. */
boost::asio::awaitable<std::string> redis_unready_reason(redis_client& redis);

} // namespace meshdemo
