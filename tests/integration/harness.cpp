#include "harness.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using meshdemo::use_nothrow;

std::uint16_t free_port() {
    // Below the kernel's ephemeral range (32768+): there, an outgoing connection of a busy machine
    // could take the port between this check and the service's bind.
    thread_local std::mt19937 random{std::random_device{}()};
    asio::io_context io;
    for (;;) {
        const auto port =
            static_cast<std::uint16_t>(std::uniform_int_distribution<int>(20000, 32000)(random));
        tcp::acceptor acceptor(io);
        boost::system::error_code ec;
        acceptor.open(tcp::v4(), ec);
        acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
        if (!ec) {
            return port;
        }
    }
}

std::string make_temp_dir(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string source_dir() {
    return SOURCE_DIR;
}
std::string videos_api_binary() {
    return VIDEOS_API_BIN;
}
std::string playlists_api_binary() {
    return PLAYLISTS_API_BIN;
}
std::string videos_web_binary() {
    return VIDEOS_WEB_BIN;
}

// ---- child_process ----

child_process::child_process(std::vector<std::string> argv, const env_map& extra_env,
                             std::string log_path, int stdout_fd)
    : log_path_(std::move(log_path)) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string text = *entry;
        if (extra_env.count(text.substr(0, text.find('='))) == 0) {
            environment.push_back(text);
        }
    }
    for (const auto& [name, value] : extra_env) {
        environment.push_back(name + "=" + value);
    }
    std::vector<char*> args;
    for (auto& arg : argv) {
        args.push_back(arg.data());
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : environment) {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
        // If the test process dies without running destructors (a crash, an abort), take the
        // child with it: nothing a test started may outlive it.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(127);
        }
        const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(stdout_fd >= 0 ? stdout_fd : log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        execve(args[0], args.data(), envp.data());
        _exit(127);
    }
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
}

child_process::~child_process() {
    if (running()) {
        send(SIGTERM);
        if (!wait_exit(5s)) {
            send(SIGKILL);
            wait_exit(5s);
        }
    }
}

void child_process::send(int signal_number) const {
    if (pid_ > 0) {
        kill(pid_, signal_number);
    }
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
        int status = 0;
        const pid_t done = waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    return exit_code_;
}

bool child_process::running() {
    return pid_ > 0 && !wait_exit(0ms);
}

std::string child_process::log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// ---- seeded_redis ----

seeded_redis::seeded_redis(std::string database)
    : database_(std::move(database)), port_(free_port()),
      run_dir_(make_temp_dir("redis-" + database_)) {
    start();
}

seeded_redis::~seeded_redis() {
    stop();
    std::filesystem::remove_all(run_dir_);
}

void seeded_redis::start() {
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{"/bin/sh", source_dir() + "/deploy/seed/redis-seeded.sh",
                                 database_, std::to_string(port_)},
        env_map{{"RUN_DIR", run_dir_}}, run_dir_ + "/redis.log");
    const bool up = eventually([&] { return cli("ping").find("PONG") != std::string::npos; }, 10s);
    if (!up) {
        throw std::runtime_error("redis for " + database_ + " did not start: " + process_->log());
    }
}

void seeded_redis::stop() {
    process_.reset();
}

std::string seeded_redis::cli(const std::string& arguments) const {
    const std::string command =
        "redis-cli -h 127.0.0.1 -p " + std::to_string(port_) + " " + arguments + " 2>&1";
    std::string output;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[4096];
        std::size_t n = 0;
        while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
            output.append(buffer, n);
        }
        pclose(pipe);
    }
    return output;
}

// ---- service ----

service::service(std::string binary, env_map env, bool wait_until_ready, int stdout_fd)
    : binary_(std::move(binary)), env_(std::move(env)), port_(free_port()),
      admin_port_(free_port()), log_dir_(make_temp_dir("service-log")), wait_(wait_until_ready),
      stdout_fd_(stdout_fd) {
    env_.emplace("PORT", std::to_string(port_));
    env_.emplace("ADMIN_PORT", std::to_string(admin_port_));
    env_.emplace("BIND_ADDRESS", "127.0.0.1");
    env_.emplace("LOG_FORMAT", "json");
    port_ = static_cast<std::uint16_t>(std::stoi(env_["PORT"]));
    admin_port_ = static_cast<std::uint16_t>(std::stoi(env_["ADMIN_PORT"]));
    launch();
}

service::~service() {
    process_.reset();
    std::filesystem::remove_all(log_dir_);
}

void service::launch() {
    process_ = std::make_unique<child_process>(std::vector<std::string>{binary_}, env_,
                                               log_dir_ + "/service.log", stdout_fd_);
    if (!wait_) {
        return;
    }
    const bool ready = eventually(
        [&] { return http_get(admin_port_, "/readyz", {}, http::verb::get, 1s).status == 200; },
        15s);
    if (!ready) {
        throw std::runtime_error(binary_ + " did not become ready: " + process_->log());
    }
}

void service::restart() {
    process_.reset();
    launch();
}

void service::stop() {
    process_.reset();
}

// ---- HTTP client ----

std::string answer::header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? std::string{} : found->second;
}

namespace {

answer to_answer(const http::response<http::string_body>& response) {
    answer result;
    result.status = response.result_int();
    result.body = response.body();
    for (const auto& field : response) {
        std::string name(field.name_string());
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        result.headers[name] = std::string(field.value());
    }
    return result;
}

/** A blocking keep-alive connection built on one private io_context. */
class connection {
public:
    explicit connection(std::uint16_t port) : port_(port), stream_(io_) {}

    answer request(const std::string& target, const header_list& headers, http::verb method,
                   std::chrono::milliseconds timeout) {
        answer result;
        asio::co_spawn(io_, exchange(target, headers, method, timeout, result), asio::detached);
        io_.restart();
        io_.run();
        return result;
    }

private:
    asio::awaitable<void> exchange(std::string target, header_list headers, http::verb method,
                                   std::chrono::milliseconds timeout, answer& result) {
        stream_.expires_after(timeout);
        if (!open_) {
            const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
            auto [ec] = co_await stream_.async_connect(endpoint, use_nothrow);
            if (ec) {
                result.error = "connect: " + ec.message();
                co_return;
            }
            stream_.socket().set_option(tcp::no_delay(true));
            open_ = true;
        }
        http::request<http::string_body> request{method, target, 11};
        request.set(http::field::host, "127.0.0.1");
        for (const auto& [name, value] : headers) {
            request.set(name, value);
        }
        auto [write_error, written] = co_await http::async_write(stream_, request, use_nothrow);
        if (write_error) {
            result.error = "write: " + write_error.message();
            close();
            co_return;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        if (method == http::verb::head) {
            parser.skip(true);
        }
        auto [read_error, read] = co_await http::async_read(stream_, buffer_, parser, use_nothrow);
        if (read_error) {
            result.error = "read: " + read_error.message();
            close();
            co_return;
        }
        result = to_answer(parser.get());
        if (!parser.get().keep_alive()) {
            close();
        }
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().close(ignored);
        buffer_.clear();
        open_ = false;
    }

    std::uint16_t port_;
    asio::io_context io_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bool open_ = false;
};

} // namespace

answer http_get(std::uint16_t port, const std::string& target, const header_list& headers,
                http::verb method, std::chrono::milliseconds timeout) {
    connection fresh(port);
    return fresh.request(target, headers, method, timeout);
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
    asio::io_context io;
    std::string received;
    // A named lambda: the coroutine refers to its captures, which must outlive io.run().
    auto exchange = [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(io);
        stream.expires_after(timeout);
        auto [ec] = co_await stream.async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_nothrow);
        if (ec) {
            co_return;
        }
        co_await asio::async_write(stream, asio::buffer(bytes), use_nothrow);
        char chunk[4096];
        for (;;) {
            auto [read_error, n] =
                co_await stream.async_read_some(asio::buffer(chunk), use_nothrow);
            received.append(chunk, n);
            if (read_error) {
                co_return;
            }
        }
    };
    asio::co_spawn(io, exchange(), asio::detached);
    io.run();
    return received;
}

bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (check()) {
            return true;
        }
        std::this_thread::sleep_for(50ms);
    }
    return check();
}

// ---- recording_server ----

struct recording_server::impl {
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    responder respond;
    mutable std::mutex mutex;
    std::vector<http::request<http::string_body>> seen;
    std::size_t accepted = 0;               // touched on the server's thread only
    std::set<std::size_t> connections_used; // guarded by mutex
    std::thread thread;

    asio::awaitable<void> serve(tcp::socket socket, std::size_t connection) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> request;
            auto [ec, n] = co_await http::async_read(stream, buffer, request, use_nothrow);
            if (ec) {
                co_return;
            }
            {
                std::lock_guard lock(mutex);
                seen.push_back(request);
                connections_used.insert(connection);
            }
            auto [status, body] = respond(request);
            http::response<http::string_body> response{static_cast<http::status>(status), 11};
            response.set(http::field::content_type, "application/json");
            response.body() = body;
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            auto [write_error, written] = co_await http::async_write(stream, response, use_nothrow);
            if (write_error || !request.keep_alive()) {
                co_return;
            }
        }
    }

    asio::awaitable<void> accept() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec) {
                co_return;
            }
            asio::co_spawn(io, serve(std::move(socket), ++accepted), asio::detached);
        }
    }
};

recording_server::recording_server(responder respond) : impl_(std::make_unique<impl>()) {
    impl_->respond = std::move(respond);
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->io, impl_->accept(), asio::detached);
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

recording_server::~recording_server() {
    impl_->io.stop();
    impl_->thread.join();
}

std::size_t recording_server::connections_used() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->connections_used.size();
}

std::vector<http::request<http::string_body>> recording_server::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->seen;
}

// ---- load ----

load_result run_load(std::uint16_t port, const std::string& target, std::size_t connections,
                     std::chrono::milliseconds duration,
                     const std::function<void(const answer&)>& inspect) {
    std::mutex mutex;
    load_result total;
    const auto deadline = std::chrono::steady_clock::now() + duration;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < connections; ++i) {
        threads.emplace_back([&] {
            connection client(port);
            load_result mine;
            while (std::chrono::steady_clock::now() < deadline) {
                const answer got = client.request(target, {}, http::verb::get, 5s);
                ++mine.sent;
                if (got.status == 0) {
                    ++mine.failed;
                    if (mine.errors.size() < 5) {
                        mine.errors.push_back(got.error);
                    }
                } else {
                    ++mine.by_status[got.status];
                }
                if (inspect) {
                    inspect(got);
                }
            }
            std::lock_guard lock(mutex);
            total.sent += mine.sent;
            total.failed += mine.failed;
            for (const auto& [status, count] : mine.by_status) {
                total.by_status[status] += count;
            }
            total.errors.insert(total.errors.end(), mine.errors.begin(), mine.errors.end());
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    return total;
}

double metric_value(const std::string& metrics, const std::string& series) {
    std::istringstream lines(metrics);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return 0;
}

} // namespace harness
