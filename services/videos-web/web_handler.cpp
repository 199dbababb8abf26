#include "web_handler.hpp"

#include "meshdemo/http_responses.hpp"
#include "meshdemo/json_text.hpp"
#include "meshdemo/logging.hpp"
#include "meshdemo/url.hpp"

namespace videos_web {

using namespace meshdemo;

web_handler::web_handler(const static_site& site, http_client& playlists, web_settings settings)
    : site_(site), playlists_(playlists), settings_(std::move(settings)) {
    config_body_ = R"({"service":"videos-web","version":)";
    append_json_string(config_body_, settings_.version);
    config_body_.push_back('}');
}

asio::awaitable<http_response> web_handler::operator()(const http_request& request,
                                                       request_context& context) {
    http_response response = co_await answer(request, context);
    response.set("X-Version", settings_.version);
    co_return response;
}

asio::awaitable<http_response> web_handler::answer(const http_request& request,
                                                   request_context& context) {
    if (!is_get_or_head(request)) {
        co_return method_not_allowed(request);
    }
    const std::string target = strip_base_path(request.target(), settings_.base_path);
    const std::string_view path = target_path(target);
    if (path == "/api/playlists" || path == "/api/playlists/") {
        context.route = "/api/playlists";
        co_return co_await forward_playlists(request, context);
    }
    if (path == "/config.json") {
        context.route = "/config.json";
        auto response = json_response(request, http::status::ok, config_body_);
        response.set(http::field::cache_control, "no-store");
        co_return response;
    }
    co_return serve_file(request, target, context);
}

asio::awaitable<http_response> web_handler::forward_playlists(const http_request& request,
                                                              const request_context& context) {
    const call_result call =
        co_await playlists_.get("/", context.propagated_headers, settings_.api_timeout);
    if (!call.answered()) {
        log_line("playlists-api unavailable")
            .add("request_id", context.request_id)
            .add("error", call.error)
            .write(spdlog::level::warn);
        switch (call.failure) {
        case call_failure::timeout:
            co_return json_error(request, http::status::gateway_timeout,
                                 "playlists-api did not answer in time");
        case call_failure::too_large:
            co_return json_error(request, http::status::bad_gateway,
                                 "playlists-api's answer is too large");
        default:
            co_return json_error(request, http::status::bad_gateway,
                                 "playlists-api cannot be reached");
        }
    }
    const auto& upstream = call.response;
    http_response response{upstream.result(), request.version()};
    response.keep_alive(request.keep_alive());
    for (const auto name : {"Content-Type", "X-Videos-Total", "X-Videos-Omitted"}) {
        if (const auto field = upstream.find(name); field != upstream.end()) {
            response.set(name, field->value());
        }
    }
    response.set(http::field::cache_control, "no-store");
    response.body() = upstream.body();
    response.prepare_payload();
    co_return response;
}

http_response web_handler::serve_file(const http_request& request, std::string_view target,
                                      request_context& context) const {
    const auto relative = resolve_static_path(target);
    const static_file* file = relative ? site_.find(*relative) : nullptr;
    if (file == nullptr) {
        return json_error(request, http::status::not_found, "not found");
    }
    context.route = "static";
    if (const auto match = request.find(http::field::if_none_match);
        match != request.end() && match->value() == file->etag) {
        http_response response{http::status::not_modified, request.version()};
        response.keep_alive(request.keep_alive());
        response.set(http::field::etag, file->etag);
        return response;
    }
    http_response response =
        make_response(request, http::status::ok, file->body, file->content_type);
    response.set(http::field::etag, file->etag);
    // Revalidate every time: a new release (or a v2 canary) must show at once.
    response.set(http::field::cache_control, "no-cache");
    response.set("X-Content-Type-Options", "nosniff");
    return response;
}

} // namespace videos_web
