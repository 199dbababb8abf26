#include "meshdemo/url.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>

namespace meshdemo {

std::string http_url::authority() const {
    return port == 80 ? host : host + ":" + std::to_string(port);
}

namespace {

namespace urls = boost::urls;

/** A DNS name or IPv4 address as our peers have them: no IPv6, no percent-escapes. */
bool valid_host(std::string_view host) {
    if (host.empty() || host.size() > 253) {
        return false;
    }
    return std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '_';
    });
}

} // namespace

std::optional<http_url> parse_http_url(std::string_view text) {
    // RFC 3986 syntax (no blanks, controls or bytes outside ASCII; valid escapes) is Boost.URL's;
    // what a peer address may hold beyond that is ours.
    const auto parsed = urls::parse_absolute_uri(text);
    if (!parsed) {
        return std::nullopt;
    }
    const urls::url_view& url = *parsed;
    if (url.scheme_id() != urls::scheme::http || url.has_userinfo() || url.has_query() ||
        url.has_fragment() || url.encoded_host().empty() ||
        (url.host_type() != urls::host_type::name && url.host_type() != urls::host_type::ipv4) ||
        !valid_host(url.encoded_host())) {
        return std::nullopt;
    }
    http_url peer;
    if (url.has_port()) {
        // Read here: Boost 1.81's port_number() wraps some values above 65535 around.
        const std::string_view digits = url.port();
        unsigned port = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
            port == 0 || port > 65535) {
            return std::nullopt;
        }
        peer.port = static_cast<std::uint16_t>(port);
    }
    peer.host = url.encoded_host();
    std::string_view path = url.encoded_path();
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    peer.base_path = path;
    return peer;
}

std::optional<std::string> percent_decode(std::string_view text) {
    const auto escaped = urls::make_pct_string_view(text); // fails on a malformed escape
    if (!escaped) {
        return std::nullopt;
    }
    const urls::decode_view decoded = **escaped;
    std::string out(decoded.begin(), decoded.end());
    if (out.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    return out;
}

std::string percent_encode(std::string_view text) {
    return urls::encode(text, urls::unreserved_chars);
}

std::string_view target_path(std::string_view target) {
    return target.substr(0, target.find_first_of("?#"));
}

} // namespace meshdemo
