#pragma once

#include "meshdemo/http_types.hpp"
#include "meshdemo/metrics.hpp"

#include <atomic>
#include <functional>
#include <string>

namespace meshdemo {

/** What the admin port needs to answer probes and scrapes. */
struct admin_state {
    const metrics_registry* metrics = nullptr;
    const std::atomic<bool>* draining = nullptr;
    /** Empty when ready, otherwise why not. */
    std::function<asio::awaitable<std::string>()> readiness;
};

/** The admin port's handler: GET /healthz, /readyz and /metrics. */
request_handler make_admin_handler(admin_state state);

} // namespace meshdemo
