#pragma once

#include "meshdemo/fault_injector.hpp"
#include "meshdemo/http_types.hpp"
#include "meshdemo/metrics.hpp"
#include "meshdemo/redis_client.hpp"

namespace videos_api {

/** Counters only videos-api has. */
struct videos_metrics {
    meshdemo::counter& injected_failures;
};

/**
 * Answers GET /{id} with the video stored under that key in Redis.
 * Injected faults (FLAKY, latency) apply before Redis is touched, as in the original service.
 */
class videos_handler {
public:
    videos_handler(meshdemo::redis_client& redis, meshdemo::fault_injector& faults,
                   videos_metrics metrics);

    meshdemo::asio::awaitable<meshdemo::http_response>
    operator()(const meshdemo::http_request& request, meshdemo::request_context& context);

private:
    meshdemo::redis_client& redis_;
    meshdemo::fault_injector& faults_;
    videos_metrics metrics_;
};

} // namespace videos_api
