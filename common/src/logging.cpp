#include "meshdemo/logging.hpp"

#include "meshdemo/json_text.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <unistd.h>

namespace meshdemo {

namespace {

log_format current_format = log_format::text;

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
    spdlog::init_thread_pool(2048, 1); // ~0.6 MB of queue: enough for bursts, cheap in RSS
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    auto logger =
        std::make_shared<spdlog::async_logger>(settings.service, sink, spdlog::thread_pool(),
                                               spdlog::async_overflow_policy::overrun_oldest);
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
    spdlog::flush_every(std::chrono::seconds(1));
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
