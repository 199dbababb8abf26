#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshdemo {

/** An http:// address of a peer service: host, port and an optional base path. */
struct http_url {
    std::string host;
    std::uint16_t port = 80;
    /** Path prefix without a trailing slash; empty for the root. */
    std::string base_path;

    /** host:port as sent in the Host header. */
    std::string authority() const;
};

/** Parses "http://host[:port][/path]"; empty optional when it is not such an address. */
std::optional<http_url> parse_http_url(std::string_view text);

/** Decodes %XX escapes; empty optional for a malformed escape or an encoded NUL. */
std::optional<std::string> percent_decode(std::string_view text);

/** Escapes every byte but RFC 3986's unreserved characters, for use as one path segment. */
std::string percent_encode(std::string_view text);

/** The path of a request target: what comes before '?' or '#'. */
std::string_view target_path(std::string_view target);

} // namespace meshdemo
