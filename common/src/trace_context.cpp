#include "meshdemo/trace_context.hpp"

#include <boost/beast/core/string.hpp>

#include <array>
#include <random>

namespace meshdemo {

namespace {

constexpr std::array<std::string_view, 10> exact_names{
    "x-request-id", "traceparent",       "tracestate",   "b3",         "x-b3-traceid",
    "x-b3-spanid",  "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "x-ot-span-context"};

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && beast::iequals(text.substr(0, prefix.size()), prefix);
}

} // namespace

bool is_trace_header(std::string_view name) {
    for (const auto exact : exact_names) {
        if (beast::iequals(name, exact)) {
            return true;
        }
    }
    return starts_with_ignoring_case(name, "l5d-ctx-");
}

std::string new_request_id() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (std::size_t half = 0; half < 2; ++half) {
        std::uint64_t bits = generator();
        for (std::size_t i = 0; i < 16; ++i, bits >>= 4) {
            id[half * 16 + i] = hex[bits & 0xf];
        }
    }
    return id;
}

void read_trace_context(const http_request& request, request_context& context) {
    for (const auto& field : request) {
        const std::string_view name = field.name_string();
        if (!is_trace_header(name)) {
            continue;
        }
        const std::string_view value = field.value();
        if (beast::iequals(name, "x-request-id")) {
            if (value.empty() || value.size() > 200 || !context.request_id.empty()) {
                continue; // a second or unusable id is replaced by ours below
            }
            context.request_id = std::string(value);
            continue;
        }
        context.propagated_headers.emplace_back(std::string(name), std::string(value));
    }
    if (context.request_id.empty()) {
        context.request_id = new_request_id();
    }
    context.propagated_headers.emplace_back("x-request-id", context.request_id);
}

} // namespace meshdemo
