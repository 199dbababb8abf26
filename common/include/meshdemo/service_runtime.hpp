#pragma once

#include "meshdemo/http_server.hpp"
#include "meshdemo/logging.hpp"
#include "meshdemo/metrics.hpp"
#include "meshdemo/service_worker.hpp"
#include "meshdemo/settings.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace meshdemo {

/** Settings every service shares: THREADS, ADMIN_PORT, limits and shutdown timing. */
struct runtime_settings {
    std::size_t threads = 1;
    std::uint16_t admin_port = 9090;
    std::string bind_address; ///< BIND_ADDRESS; empty means every address
    server_limits limits;
    std::chrono::milliseconds shutdown_delay{0};
    std::chrono::milliseconds shutdown_grace{10000};
    bool debug = false; ///< ENVIRONMENT=DEBUG
};

runtime_settings read_runtime_settings(const settings_reader& reader);

/** The service's main port: its number, its route labels (for metrics) and whether, when
 * ENVIRONMENT=DEBUG, it adds CORS headers and answers preflights (the APIs do). */
struct main_port {
    std::uint16_t port = 0;
    std::vector<std::string> routes;
    bool cors_when_debugging = false;
};

/**
 * Represents a running service: its worker threads (each one io_context and the service_worker
 * that runs on it), its main HTTP server, its admin server (/healthz, /readyz, /metrics) and its
 * shutdown.
 *
 * On SIGTERM or SIGINT the service reports not ready at once, keeps serving for
 * SHUTDOWN_DELAY_MS (so that load balancers can stop sending), stops accepting, lets the
 * requests in flight finish for up to SHUTDOWN_GRACE_MS, and returns from run() with 0.
 */
class service_runtime {
public:
    service_runtime(std::string service, runtime_settings settings);
    ~service_runtime();
    service_runtime(const service_runtime&) = delete;
    service_runtime& operator=(const service_runtime&) = delete;

    metrics_registry& metrics() { return metrics_; }

    /** Makes one worker per thread with make_worker (on this thread) and serves the main port
     * with them. */
    void serve(const main_port& main, const worker_factory& make_worker);

    /** Runs until shut down; returns the exit code. */
    int run();

private:
    boost::asio::awaitable<void> wait_for_signals();
    boost::asio::awaitable<void> shut_down();
    void stop_workers();

    struct worker_thread;

    std::string service_;
    runtime_settings settings_;
    metrics_registry metrics_;
    std::vector<std::unique_ptr<worker_thread>> workers_;
    std::unique_ptr<http_server> main_server_;
    std::unique_ptr<http_server> admin_server_;
    std::unique_ptr<boost::asio::signal_set> signals_;
    std::atomic<bool> draining_{false};
    int exit_code_ = 0;
};

/**
 * Runs a service's main(): reads the shared settings, starts logging, lets setup read the
 * service's own settings and build its handlers, then runs. A bad setting or a port that cannot
 * be bound ends the process at start-up with one line on stderr and a non-zero exit code.
 * With the one argument --probe it runs nothing but asks the running service's /readyz (on
 * ADMIN_PORT) and exits 0 when it is ready, 1 otherwise: the health check of a shell-less image.
 */
int run_service(const std::string& service, int argc, char** argv,
                const std::function<void(const settings_reader&, service_runtime&)>& setup);

} // namespace meshdemo
