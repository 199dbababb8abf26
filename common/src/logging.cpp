#include "meshdemo/logging.hpp"

#include "meshdemo/json_text.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <poll.h>
#include <stop_token>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace meshdemo {

namespace {

log_format current_format = log_format::text;

/**
 * Log lines written to stdout in batches by a thread of their own, because spdlog's asynchronous
 * logger wakes its thread for every line (its cost: bench/RESULTS.md, Findings). Event-loop threads
 * format their lines and append them to a buffer under a short lock; the writer thread writes
 * the buffer every 100 ms, at once when it holds 64 KiB or a warning or error, and at exit. No
 * event-loop thread ever waits on stdout; if stdout cannot keep up, lines beyond 1 MiB waiting
 * are dropped rather than a request held up, and a warning with their count follows.
 */
class batched_stdout_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    batched_stdout_sink() : writer_([this](std::stop_token stop) { write_batches(stop); }) {}
    ~batched_stdout_sink() override {
        writer_.request_stop();
        wake_.notify_one();
    }
    batched_stdout_sink(const batched_stdout_sink&) = delete;
    batched_stdout_sink& operator=(const batched_stdout_sink&) = delete;

protected:
    void sink_it_(const spdlog::details::log_msg& message) override { // under mutex_
        if (pending_.size() >= dropping_from) {
            ++dropped_;
            return;
        }
        spdlog::memory_buf_t line;
        if (logger_name_.empty()) {
            logger_name_.assign(message.logger_name.data(), message.logger_name.size());
        }
        format_dropped_notice(line); // say what was lost before going on
        formatter_->format(message, line);
        pending_.append(line.data(), line.size());
        if (pending_.size() >= write_at_once_from || message.level >= spdlog::level::warn) {
            urgent_ = true;
            wake_.notify_one();
        }
    }
    void flush_() override { // under mutex_
        urgent_ = true;
        wake_.notify_one();
    }

private:
    static constexpr std::size_t write_at_once_from = 64 * 1024;
    static constexpr std::size_t dropping_from = 1024 * 1024;
    /** At exit, how long the last lines may wait for a stdout nobody reads. */
    static constexpr std::chrono::milliseconds last_write_limit{2000};

    /** Appends the warning that says how many lines were dropped, if any were. Under mutex_. */
    void format_dropped_notice(spdlog::memory_buf_t& out) {
        if (dropped_ == 0) {
            return;
        }
        log_line notice("log lines dropped: stdout did not keep up");
        notice.add("count", static_cast<std::int64_t>(std::exchange(dropped_, 0)));
        formatter_->format(
            spdlog::details::log_msg(logger_name_, spdlog::level::warn, notice.text()), out);
    }

    void write_batches(const std::stop_token& stop) {
        std::string batch;
        std::optional<std::chrono::steady_clock::time_point> deadline; // set once stopping
        for (bool last = false; !last;) {
            {
                std::unique_lock lock(mutex_);
                wake_.wait_for(lock, std::chrono::milliseconds(100),
                               [&] { return urgent_ || stop.stop_requested(); });
                last = stop.stop_requested();
                urgent_ = false;
                if (last) { // no later line will carry the count: the last batch does
                    spdlog::memory_buf_t notice;
                    format_dropped_notice(notice);
                    pending_.append(notice.data(), notice.size());
                }
                batch.swap(pending_);
            }
            if (const auto unwritten = write_all(batch, stop, deadline);
                unwritten > 0 && deadline) {
                // stdout is stuck: exit anyway (a stop must not hang), and say so where it can be
                // seen.
                const auto lost = std::string_view(batch).substr(batch.size() - unwritten);
                std::fprintf(stderr,
                             "log lines dropped at exit: stdout did not take the last %zu lines "
                             "(%zu bytes)\n",
                             static_cast<std::size_t>(std::count(lost.begin(), lost.end(), '\n')),
                             unwritten);
            }
            batch.clear();
        }
    }

    /** Writes text to stdout, waiting for room as long as it takes until a stop is requested,
     * then until last_write_limit has passed. Returns how many bytes were not written. */
    static std::size_t write_all(std::string_view text, const std::stop_token& stop,
                                 std::optional<std::chrono::steady_clock::time_point>& deadline) {
        const int flags = ::fcntl(STDOUT_FILENO, F_GETFL);
        struct stat kind {};
        // A blocking write larger than the room in a pipe or socket would wait inside write(),
        // where a stop cannot reach it; once poll said so, there is room for one page.
        const bool one_page_at_a_time = flags >= 0 && (flags & O_NONBLOCK) == 0 &&
                                        ::fstat(STDOUT_FILENO, &kind) == 0 &&
                                        (S_ISFIFO(kind.st_mode) || S_ISSOCK(kind.st_mode));
        while (!text.empty()) {
            const auto now = std::chrono::steady_clock::now();
            if (!deadline && stop.stop_requested()) {
                deadline = now + last_write_limit;
            }
            if (deadline && now >= *deadline) {
                return text.size();
            }
            // Waiting in poll, not in write(), so that a stop is noticed within 100 ms.
            pollfd ready{STDOUT_FILENO, POLLOUT, 0};
            const int polled = ::poll(&ready, 1, 100);
            if (polled < 0 && errno != EINTR) {
                return text.size();
            }
            if (polled <= 0) {
                continue;
            }
            if ((ready.revents & POLLOUT) == 0) {
                return text.size(); // the reading end is gone
            }
            const std::size_t chunk =
                one_page_at_a_time ? std::min<std::size_t>(text.size(), 4096) : text.size();
            const ssize_t written = ::write(STDOUT_FILENO, text.data(), chunk);
            if (written < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
                continue;
            }
            if (written <= 0) {
                return text.size(); // stdout is gone or broken
            }
            text.remove_prefix(static_cast<std::size_t>(written));
        }
        return 0;
    }

    std::string pending_;
    std::string logger_name_; ///< for the dropped-lines notice
    std::size_t dropped_ = 0; ///< lines dropped since the last one kept
    bool urgent_ = false;
    std::condition_variable wake_;
    std::jthread writer_; // last: joined before the members it uses go
};

bool needs_quotes(std::string_view value) {
    if (value.empty()) {
        return true;
    }
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '"' || c == '=') {
            return true;
        }
    }
    return false;
}

} // namespace

logging_settings read_logging_settings(const settings_reader& reader, std::string service) {
    logging_settings settings;
    settings.service = std::move(service);
    const std::string level =
        reader.one_of("LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
    settings.level = spdlog::level::from_str(level);
    const bool terminal = isatty(STDOUT_FILENO) == 1;
    settings.format =
        reader.one_of("LOG_FORMAT", terminal ? "text" : "json", {"json", "text"}) == "json"
            ? log_format::json
            : log_format::text;
    return settings;
}

void start_logging(const logging_settings& settings) {
    current_format = settings.format;
    auto logger =
        std::make_shared<spdlog::logger>(settings.service, std::make_shared<batched_stdout_sink>());
    if (settings.format == log_format::json) {
        std::string service;
        append_json_string(service, settings.service);
        logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":)" + service +
                                ",%v}",
                            spdlog::pattern_time_type::utc);
    } else {
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ " + settings.service + " %v");
    }
    logger->set_level(settings.level);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
}

void stop_logging() {
    spdlog::default_logger()->flush();
    spdlog::shutdown();
}

bool log_enabled(spdlog::level::level_enum level) {
    return spdlog::default_logger_raw()->should_log(level);
}

log_line::log_line(std::string_view message) {
    body_.reserve(256);
    if (current_format == log_format::json) {
        body_.append("\"msg\":");
        append_json_string(body_, message);
    } else {
        body_.append(message);
    }
}

void log_line::append_key(std::string_view key) {
    if (current_format == log_format::json) {
        body_.push_back(',');
        append_json_string(body_, key);
        body_.push_back(':');
    } else {
        body_.push_back(' ');
        body_.append(key);
        body_.push_back('=');
    }
}

log_line& log_line::add(std::string_view key, std::string_view value) {
    append_key(key);
    if (current_format == log_format::json || needs_quotes(value)) {
        append_json_string(body_, value);
    } else {
        body_.append(value);
    }
    return *this;
}

log_line& log_line::add(std::string_view key, std::int64_t value) {
    append_key(key);
    body_.append(std::to_string(value));
    return *this;
}

log_line& log_line::add(std::string_view key, double value) {
    append_key(key);
    char text[32];
    const int length = std::snprintf(text, sizeof text, "%.3f", value);
    body_.append(text, static_cast<std::size_t>(length));
    return *this;
}

void log_line::write(spdlog::level::level_enum level) const {
    spdlog::default_logger_raw()->log(level, body_);
}

} // namespace meshdemo
