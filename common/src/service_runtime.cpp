#include "meshdemo/service_runtime.hpp"

#include "meshdemo/admin_routes.hpp"
#include "meshdemo/async.hpp"
#include "meshdemo/cors.hpp"
#include "meshdemo/readiness_probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <span>
#include <string_view>
#include <sys/resource.h>
#include <thread>

namespace meshdemo {

namespace {

/** Many client connections need many descriptors: take all the hard limit allows. */
void raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

void listen_or_explain(http_server& server, const std::string& address, std::uint16_t port,
                       std::string_view variable) {
    try {
        server.listen(address, port);
    } catch (const boost::system::system_error& error) {
        throw std::runtime_error("cannot listen on port " + std::to_string(port) + " (" +
                                 std::string(variable) + "): " + error.code().message());
    }
}

} // namespace

runtime_settings read_runtime_settings(const settings_reader& reader) {
    runtime_settings settings;
    const auto cores = std::max(1u, std::thread::hardware_concurrency());
    settings.threads = static_cast<std::size_t>(reader.integer("THREADS", cores, 1, 256));
    settings.admin_port = reader.port("ADMIN_PORT", 9090);
    settings.bind_address = reader.text("BIND_ADDRESS", "");
    if (boost::system::error_code ec;
        !settings.bind_address.empty() && (asio::ip::make_address(settings.bind_address, ec), ec)) {
        throw settings_error("BIND_ADDRESS", "must be an IP address", settings.bind_address);
    }
    settings.limits.max_connections =
        static_cast<std::size_t>(reader.integer("MAX_CONNECTIONS", 10000, 1, 1000000));
    settings.limits.idle_timeout = reader.milliseconds("IDLE_TIMEOUT_MS", 120000, 100, 3600000);
    settings.limits.read_timeout = reader.milliseconds("READ_TIMEOUT_MS", 10000, 100, 600000);
    settings.limits.header_bytes =
        static_cast<std::size_t>(reader.integer("MAX_HEADER_BYTES", 16384, 1024, 1048576));
    settings.limits.body_bytes =
        static_cast<std::size_t>(reader.integer("MAX_BODY_BYTES", 65536, 0, 16777216));
    settings.shutdown_delay = reader.milliseconds("SHUTDOWN_DELAY_MS", 0, 0, 600000);
    settings.shutdown_grace = reader.milliseconds("SHUTDOWN_GRACE_MS", 10000, 0, 600000);
    settings.debug = reader.text("ENVIRONMENT", "") == "DEBUG";
    return settings;
}

/** One worker thread's io_context and the service's worker on it. */
struct service_runtime::worker_thread {
    /** An io_context whose pending work can be dropped before the objects it refers to go. */
    struct context : asio::io_context {
        context() : asio::io_context(1) {}
        void drop_pending_work() { shutdown(); }
    };

    // Coroutines still suspended (requests cut off by the grace period, a Redis reconnect loop)
    // use the worker's clients: end them first, then the worker, then (as a member) the context.
    ~worker_thread() { io.drop_pending_work(); }

    context io;
    std::unique_ptr<service_worker> service;
};

service_runtime::service_runtime(std::string service, runtime_settings settings)
    : service_(std::move(service)), settings_(settings) {
    raise_open_file_limit();
    for (std::size_t i = 0; i < settings_.threads; ++i) {
        workers_.push_back(std::make_unique<worker_thread>());
    }
    metrics_.add_info("build_info", "Version of the running service.",
                      {{"service", service_}, {"version", MESHDEMO_VERSION}});
}

// Members go in reverse order: signals and servers first, then the workers, then the metrics.
service_runtime::~service_runtime() = default;

void service_runtime::serve(const main_port& main, const worker_factory& make_worker) {
    std::vector<asio::io_context*> contexts;
    std::vector<request_handler> handlers;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        worker_thread& worker = *workers_[i];
        worker.service = make_worker(worker.io, i);
        contexts.push_back(&worker.io);
        const request_handler& handler = worker.service->handler();
        const bool cors = main.cors_when_debugging && settings_.debug;
        handlers.push_back(cors ? with_debug_cors(handler) : handler);
    }
    auto& route_metrics = metrics_.add_http_server(main.routes);
    main_server_ = std::make_unique<http_server>(
        contexts, std::move(handlers),
        http_server::options{"main", settings_.limits, &route_metrics, true});
    listen_or_explain(*main_server_, settings_.bind_address, main.port, "PORT");

    service_worker& first = *workers_.front()->service;
    admin_state admin{&metrics_, &draining_, [&first] {
                          return first.unready_reason();
                      }};
    admin_server_ = std::make_unique<http_server>(
        std::vector<asio::io_context*>{&workers_.front()->io},
        std::vector<request_handler>{make_admin_handler(std::move(admin))},
        http_server::options{"admin", settings_.limits, nullptr, false});
    listen_or_explain(*admin_server_, settings_.bind_address, settings_.admin_port, "ADMIN_PORT");
}

int service_runtime::run() {
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& worker : workers_) {
        guards.push_back(asio::make_work_guard(worker->io));
    }
    main_server_->start();
    admin_server_->start();
    // Installed before any thread runs, so that an early SIGTERM is handled, not fatal.
    signals_ = std::make_unique<asio::signal_set>(workers_.front()->io, SIGINT, SIGTERM);
    asio::co_spawn(workers_.front()->io, wait_for_signals(), asio::detached);
    log_line("started")
        .add("version", MESHDEMO_VERSION)
        .add("threads", static_cast<std::int64_t>(workers_.size()))
        .add("admin_port", std::int64_t{settings_.admin_port})
        .write(spdlog::level::info);

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers_.size(); ++i) {
        threads.emplace_back([&io = workers_[i]->io] { io.run(); });
    }
    workers_.front()->io.run();
    for (auto& thread : threads) {
        thread.join();
    }
    log_line("stopped").add("exit_code", std::int64_t{exit_code_}).write(spdlog::level::info);
    return exit_code_;
}

asio::awaitable<void> service_runtime::wait_for_signals() {
    auto [ec, signal] = co_await signals_->async_wait(use_nothrow);
    if (ec) {
        co_return;
    }
    log_line("shutting down")
        .add("signal", std::int64_t{signal})
        .add("delay_ms", static_cast<std::int64_t>(settings_.shutdown_delay.count()))
        .add("grace_ms", static_cast<std::int64_t>(settings_.shutdown_grace.count()))
        .write(spdlog::level::info);
    asio::co_spawn(workers_.front()->io, shut_down(), asio::detached);
    // A second signal means: stop now.
    auto [again, second] = co_await signals_->async_wait(use_nothrow);
    if (!again) {
        log_line("second signal: stopping without draining").write(spdlog::level::warn);
        exit_code_ = 1;
        stop_workers();
    }
}

asio::awaitable<void> service_runtime::shut_down() {
    draining_ = true;
    asio::steady_timer timer(workers_.front()->io);
    timer.expires_after(settings_.shutdown_delay);
    co_await timer.async_wait(use_nothrow);

    main_server_->stop_accepting();
    main_server_->close_idle_connections();
    const auto deadline = std::chrono::steady_clock::now() + settings_.shutdown_grace;
    while (main_server_->active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(use_nothrow);
    }
    if (const auto left = main_server_->active_connections(); left > 0) {
        log_line("grace period over")
            .add("connections_closed", static_cast<std::int64_t>(left))
            .write(spdlog::level::warn);
    }
    admin_server_->stop_accepting();
    stop_workers();
}

void service_runtime::stop_workers() {
    for (auto& worker : workers_) {
        asio::post(worker->io, [&worker = *worker] {
            worker.service->stop();
            worker.io.stop();
        });
    }
}

int run_service(const std::string& service, int argc, char** argv,
                const std::function<void(const settings_reader&, service_runtime&)>& setup) {
    const settings_reader reader;
    const std::span<char*> arguments(argv, static_cast<std::size_t>(argc));
    if (arguments.size() > 1) {
        if (arguments.size() == 2 && std::string_view(arguments[1]) == "--probe") {
            try {
                return probe_readiness(reader.text("BIND_ADDRESS", ""),
                                       reader.port("ADMIN_PORT", 9090))
                           ? 0
                           : 1;
            } catch (const settings_error& error) {
                std::fprintf(stderr, "%s: %s\n", service.c_str(), error.what());
                return 2;
            }
        }
        std::fprintf(stderr, "usage: %s [--probe]   (settings come from the environment)\n",
                     service.c_str());
        return 2;
    }
    std::unique_ptr<service_runtime> runtime;
    try {
        start_logging(read_logging_settings(reader, service));
        runtime = std::make_unique<service_runtime>(service, read_runtime_settings(reader));
        setup(reader, *runtime);
    } catch (const settings_error& error) {
        std::fprintf(stderr, "%s: %s\n", service.c_str(), error.what());
        return 2;
    } catch (const boost::system::system_error& error) {
        std::fprintf(stderr, "%s: cannot start: %s\n", service.c_str(), error.what());
        return 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: cannot start: %s\n", service.c_str(), error.what());
        return 1;
    }
    const int code = runtime->run();
    runtime.reset();
    stop_logging();
    return code;
}

} // namespace meshdemo
