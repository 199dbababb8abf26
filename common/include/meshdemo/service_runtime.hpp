#pragma once

#include "meshdemo/http_server.hpp"
#include "meshdemo/logging.hpp"
#include "meshdemo/metrics.hpp"
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
};

runtime_settings read_runtime_settings(const settings_reader& reader);

/** Answers "is this service ready?": empty when ready, otherwise the reason it is not. */
using readiness_check = std::function<boost::asio::awaitable<std::string>()>;

/**
 * Represents a running service: its worker threads (one single-threaded io_context each), its
 * main HTTP server, its admin server (/healthz, /readyz, /metrics) and its shutdown.
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

    std::size_t worker_count() const { return workers_.size(); }
    boost::asio::io_context& worker(std::size_t index) { return *workers_[index]; }
    metrics_registry& metrics() { return metrics_; }

    /** Serves the main port. make_handler is called once per worker, on the main thread. */
    void serve(std::uint16_t port, std::vector<std::string> routes,
               const std::function<request_handler(std::size_t worker)>& make_handler);
    /** How /readyz decides; runs on worker 0. Without one, ready unless shutting down. */
    void set_readiness_check(readiness_check check) { readiness_ = std::move(check); }
    /** Runs on each worker's thread when the service stops (e.g. closing Redis connections). */
    void on_stop(std::function<void(std::size_t worker)> action) {
        stop_actions_.push_back(std::move(action));
    }

    /** Makes an object that lives as long as the service: destroyed after the servers and
     * before the worker threads' io_contexts it may use. */
    template <typename T, typename... Args> T& make_owned(Args&&... args) {
        auto object = std::make_shared<T>(std::forward<Args>(args)...);
        owned_.push_back(object);
        return *object;
    }

    /** Runs until shut down; returns the exit code. */
    int run();

private:
    boost::asio::awaitable<void> wait_for_signals();
    boost::asio::awaitable<void> shut_down();
    void stop_workers();

    std::string service_;
    runtime_settings settings_;
    /** An io_context whose pending work can be dropped before the objects it refers to go. */
    struct worker_context : boost::asio::io_context {
        using boost::asio::io_context::io_context;
        void drop_pending_work() { shutdown(); }
    };

    std::vector<std::unique_ptr<worker_context>> workers_;
    metrics_registry metrics_;
    std::vector<std::shared_ptr<void>> owned_;
    std::unique_ptr<http_server> main_server_;
    std::unique_ptr<http_server> admin_server_;
    std::unique_ptr<boost::asio::signal_set> signals_;
    readiness_check readiness_;
    std::vector<std::function<void(std::size_t)>> stop_actions_;
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
