#pragma once

#include "meshdemo/url.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace meshdemo {

/** Thrown when a setting is invalid; what() is one line that names the variable. */
class settings_error : public std::runtime_error {
public:
    settings_error(std::string_view name, std::string_view problem, std::string_view value);
};

/** Looks a variable up by name; empty optional when unset. */
using variable_lookup = std::function<std::optional<std::string>(std::string_view)>;

/** The process environment as a variable_lookup. */
std::optional<std::string> environment_variable(std::string_view name);

/**
 * Reads typed, validated settings from environment variables.
 *
 * Every getter returns the default when the variable is unset or empty, and throws
 * settings_error naming the variable when its value is malformed or out of range, so that a
 * service stops at start-up instead of running with a setting it misread.
 */
class settings_reader {
public:
    explicit settings_reader(variable_lookup lookup = environment_variable);

    std::uint16_t port(std::string_view name, std::uint16_t fallback) const;
    std::int64_t integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                         std::int64_t max) const;
    double number(std::string_view name, double fallback, double min, double max) const;
    bool boolean(std::string_view name, bool fallback) const;
    std::chrono::milliseconds milliseconds(std::string_view name, std::int64_t fallback,
                                           std::int64_t min, std::int64_t max) const;
    std::string text(std::string_view name, std::string_view fallback) const;
    /** A host name or IP address: letters, digits, '.', '-', ':' ; no spaces or schemes. */
    std::string host(std::string_view name, std::string_view fallback) const;
    std::string one_of(std::string_view name, std::string_view fallback,
                       std::initializer_list<std::string_view> allowed) const;
    http_url url(std::string_view name, std::string_view fallback) const;

private:
    std::optional<std::string> raw(std::string_view name) const;

    variable_lookup lookup_;
};

} // namespace meshdemo
