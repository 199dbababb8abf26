#include "meshdemo/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace meshdemo {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

template <typename Number> std::optional<Number> parse_whole(std::string_view text) {
    Number value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::string range_text(std::int64_t min, std::int64_t max) {
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

} // namespace

settings_error::settings_error(std::string_view name, std::string_view problem,
                               std::string_view value)
    : std::runtime_error("invalid setting " + std::string(name) + ": " + std::string(problem) +
                         ", got \"" + std::string(value.substr(0, 80)) + "\"") {}

std::optional<std::string> environment_variable(std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

settings_reader::settings_reader(variable_lookup lookup) : lookup_(std::move(lookup)) {}

std::optional<std::string> settings_reader::raw(std::string_view name) const {
    auto value = lookup_(name);
    if (!value || value->empty()) {
        return std::nullopt;
    }
    return value;
}

std::int64_t settings_reader::integer(std::string_view name, std::int64_t fallback,
                                      std::int64_t min, std::int64_t max) const {
    const auto value = raw(name);
    if (!value) {
        return fallback;
    }
    const auto parsed = parse_whole<std::int64_t>(*value);
    if (!parsed || *parsed < min || *parsed > max) {
        throw settings_error(name, range_text(min, max), *value);
    }
    return *parsed;
}

std::uint16_t settings_reader::port(std::string_view name, std::uint16_t fallback) const {
    return static_cast<std::uint16_t>(integer(name, fallback, 1, 65535));
}

std::chrono::milliseconds settings_reader::milliseconds(std::string_view name,
                                                        std::int64_t fallback, std::int64_t min,
                                                        std::int64_t max) const {
    return std::chrono::milliseconds(integer(name, fallback, min, max));
}

double settings_reader::number(std::string_view name, double fallback, double min,
                               double max) const {
    const auto value = raw(name);
    if (!value) {
        return fallback;
    }
    // Plain decimals only ("0.5", "1"): strtod would also take blanks, hex and "inf".
    double parsed = 0;
    const char* first = value->data();
    const char* last = first + value->size();
    const auto [end, ec] = std::from_chars(first, last, parsed, std::chars_format::fixed);
    if (ec != std::errc{} || end != last || !std::isfinite(parsed) || parsed < min ||
        parsed > max) {
        throw settings_error(
            name, "must be a number from " + std::to_string(min) + " to " + std::to_string(max),
            *value);
    }
    return parsed;
}

bool settings_reader::boolean(std::string_view name, bool fallback) const {
    const auto value = raw(name);
    if (!value) {
        return fallback;
    }
    const std::string word = lowercase(*value);
    if (word == "true" || word == "1" || word == "yes" || word == "on") {
        return true;
    }
    if (word == "false" || word == "0" || word == "no" || word == "off") {
        return false;
    }
    throw settings_error(name, "must be true or false", *value);
}

std::string settings_reader::text(std::string_view name, std::string_view fallback) const {
    return raw(name).value_or(std::string(fallback));
}

std::string settings_reader::host(std::string_view name, std::string_view fallback) const {
    const std::string value = text(name, fallback);
    const bool ok = !value.empty() && value.size() <= 253 &&
                    std::all_of(value.begin(), value.end(), [](unsigned char c) {
                        return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':';
                    });
    if (!ok) {
        throw settings_error(name, "must be a host name or IP address", value);
    }
    return value;
}

std::string settings_reader::one_of(std::string_view name, std::string_view fallback,
                                    std::initializer_list<std::string_view> allowed) const {
    const auto value = raw(name);
    if (!value) {
        return std::string(fallback);
    }
    const std::string word = lowercase(*value);
    for (std::string_view option : allowed) {
        if (word == option) {
            return word;
        }
    }
    std::string list;
    for (std::string_view option : allowed) {
        list += list.empty() ? "" : ", ";
        list += option;
    }
    throw settings_error(name, "must be one of " + list, *value);
}

http_url settings_reader::url(std::string_view name, std::string_view fallback) const {
    const std::string value = text(name, fallback);
    auto parsed = parse_http_url(value);
    if (!parsed) {
        throw settings_error(name, "must be an http:// URL such as http://host:port", value);
    }
    return *parsed;
}

} // namespace meshdemo
