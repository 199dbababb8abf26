#pragma once

// Real parts for integration tests: child processes, seeded redis-server instances, the service
// executables, an HTTP client, a recording test double and a bounded load generator.

#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace harness {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using env_map = std::map<std::string, std::string>;
using header_list = std::vector<std::pair<std::string, std::string>>;

/** A loopback port nobody listens on right now. */
std::uint16_t free_port();
/** A new empty directory under /tmp, removed by the caller. */
std::string make_temp_dir(const std::string& prefix);

/** A new empty directory under /tmp, removed with everything in it however the test ends. */
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix) : path_(make_temp_dir(prefix)) {}
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/** A child process started with the current environment plus extras; output goes to a log
 * file (stdout to stdout_fd instead when given). Ended by its PID (SIGTERM, then SIGKILL) when
 * destroyed, even if a test failed. */
class child_process {
public:
    child_process(std::vector<std::string> argv, const env_map& extra_env, std::string log_path,
                  int stdout_fd = -1);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const { return pid_; }
    void send(int signal_number) const;
    /** The exit code (or 128 + signal) once it exits within timeout. */
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    bool running();
    std::string log() const;

private:
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::string log_path_;
};

/** redis-server seeded with one database's section of deploy/seed/seed.redis, on a free port. */
class seeded_redis {
public:
    explicit seeded_redis(std::string database);
    ~seeded_redis();
    std::uint16_t port() const { return port_; }
    void start();
    void stop();
    /** Runs redis-cli against this server and returns its output. */
    std::string cli(const std::string& arguments) const;

private:
    std::string database_;
    std::uint16_t port_;
    std::string run_dir_;
    std::unique_ptr<child_process> process_;
};

/** One of our service executables, on free ports, ready when constructed (or failed). */
class service {
public:
    /** stdout_fd: where the service's stdout goes instead of its log file (a pipe, say). */
    service(std::string binary, env_map env, bool wait_until_ready = true, int stdout_fd = -1);
    ~service();
    std::uint16_t port() const { return port_; }
    std::uint16_t admin_port() const { return admin_port_; }
    child_process& process() { return *process_; }
    std::string log() const { return process_->log(); }
    /** Starts the same executable again on the same ports. */
    void restart();
    void stop();

private:
    void launch();

    std::string binary_;
    env_map env_;
    std::uint16_t port_;
    std::uint16_t admin_port_;
    std::string log_dir_;
    bool wait_;
    int stdout_fd_;
    std::unique_ptr<child_process> process_;
};

std::string videos_api_binary();
std::string playlists_api_binary();
std::string videos_web_binary();
std::string source_dir();

/** An HTTP answer, or the error that prevented one (status 0). */
struct answer {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers; ///< names in lower case
    std::string error;
    std::string header(const std::string& name) const;
};

/** One request on a new connection. */
answer http_get(std::uint16_t port, const std::string& target, const header_list& headers = {},
                http::verb method = http::verb::get, std::chrono::milliseconds timeout = 5s);

/** Sends raw bytes and returns what comes back until the server closes or timeout passes. */
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = 5s);

/** Polls until check() is true or timeout passes. */
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 10s);

/** A test double: an HTTP server on loopback that records every request and answers with
 * respond(request). */
class recording_server {
public:
    using responder =
        std::function<std::pair<unsigned, std::string>(const http::request<http::string_body>&)>;
    explicit recording_server(responder respond);
    ~recording_server();
    std::uint16_t port() const { return port_; }
    std::vector<http::request<http::string_body>> requests() const;
    /** How many connections carried at least one request (bare connects, such as a
     * readiness check's, do not count). */
    std::size_t connections_used() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    std::uint16_t port_;
};

/** What a bounded load saw. */
struct load_result {
    std::size_t sent = 0;
    std::size_t failed = 0; ///< no HTTP answer at all
    std::map<unsigned, std::size_t> by_status;
    std::vector<std::string> errors;
};

/** Keep-alive connections hammering one target for a fixed time; inspect() sees every answer
 * (from several threads: it must be thread-safe). */
load_result run_load(std::uint16_t port, const std::string& target, std::size_t connections,
                     std::chrono::milliseconds duration,
                     const std::function<void(const answer&)>& inspect = {});

/** The value of one sample in Prometheus text, e.g. metric_value(text,
 * "http_server_requests_total{route=\"/\",status=\"200\"}"); 0 when absent. */
double metric_value(const std::string& metrics, const std::string& series);

} // namespace harness
