#pragma once

#include "meshdemo/metrics.hpp"
#include "meshdemo/redis_client.hpp"
#include "meshdemo/service_worker.hpp"
#include "meshdemo/settings.hpp"

#include <string>
#include <string_view>

namespace meshdemo {

/** How every worker of a service reaches its Redis: REDIS_HOST, REDIS_PORT, REDIS_TIMEOUT_MS,
 * and the counter of failed commands they share. */
struct redis_setup {
    redis_options options;
    counter* command_errors = nullptr;
};

/** Reads REDIS_HOST (default_host unless set), REDIS_PORT (6379) and REDIS_TIMEOUT_MS (1000),
 * and registers redis_command_errors_total. */
redis_setup read_redis_setup(const settings_reader& reader, std::string_view default_host,
                             metrics_registry& registry);

/**
 * Represents a worker that owns one Redis connection: it connects when made, is ready while
 * Redis answers a PING, and disconnects when the service stops. Derived workers add what uses
 * the connection; being members of the derived class, those go before the connection does.
 */
class redis_worker : public service_worker {
public:
    boost::asio::awaitable<std::string> unready_reason() override {
        return database_.unready_reason();
    }
    void stop() override { database_.stop(); }

protected:
    redis_worker(boost::asio::io_context& io, const redis_setup& setup)
        : database_(io, setup.options, *setup.command_errors) {
        database_.start();
    }

    redis_client database_;
};

} // namespace meshdemo
