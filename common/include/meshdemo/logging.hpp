#pragma once

#include "meshdemo/settings.hpp"

#include <spdlog/common.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace meshdemo {

enum class log_format { json, text };

/** How a service logs: LOG_LEVEL and LOG_FORMAT. */
struct logging_settings {
    std::string service;
    spdlog::level::level_enum level = spdlog::level::info;
    log_format format = log_format::json;
};

/** LOG_LEVEL (debug|info|warn|error, default info); LOG_FORMAT (json|text, default text on a
 * terminal and json otherwise). */
logging_settings read_logging_settings(const settings_reader& reader, std::string service);

/** Installs the process-wide logger: lines are written to stdout in batches by a thread of its
 * own (every 100 ms, at once for warnings and errors), so that no event-loop thread ever waits on
 * stdout; when the output cannot keep up, new lines are dropped rather than requests held up. */
void start_logging(const logging_settings& settings);

/** Flushes what is queued; called before the process exits. */
void stop_logging();

/** Whether lines of this level are written; lets hot paths skip building them. */
bool log_enabled(spdlog::level::level_enum level);

/**
 * One log line: a message and key/value fields, rendered as JSON members or as key=value text
 * depending on LOG_FORMAT.
 */
class log_line {
public:
    explicit log_line(std::string_view message);

    log_line& add(std::string_view key, std::string_view value);
    log_line& add(std::string_view key, std::int64_t value);
    log_line& add(std::string_view key, double value);

    void write(spdlog::level::level_enum level) const;
    /** The fields as rendered, without time, level and service. */
    std::string_view text() const { return body_; }

private:
    void append_key(std::string_view key);

    std::string body_;
};

} // namespace meshdemo
