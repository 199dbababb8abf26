#include "meshdemo/admin_routes.hpp"

#include "meshdemo/http_responses.hpp"

#include "meshdemo/json_text.hpp"
#include "meshdemo/url.hpp"

namespace meshdemo {

request_handler make_admin_handler(admin_state state) {
    return [state = std::move(state)](const http_request& request,
                                      request_context& context) -> asio::awaitable<http_response> {
        const std::string_view path = target_path(request.target());
        context.route =
            path == "/healthz" || path == "/readyz" || path == "/metrics" ? path : "other";
        if (!is_get_or_head(request)) {
            co_return method_not_allowed(request);
        }
        if (path == "/healthz") {
            co_return json_response(request, http::status::ok, R"({"status":"alive"})");
        }
        if (path == "/readyz") {
            std::string reason;
            if (state.draining->load()) {
                reason = "shutting down";
            } else if (state.readiness) {
                reason = co_await state.readiness();
            }
            if (!reason.empty()) {
                std::string body = R"({"status":"not ready","reason":)";
                append_json_string(body, reason);
                body.push_back('}');
                co_return json_response(request, http::status::service_unavailable,
                                        std::move(body));
            }
            co_return json_response(request, http::status::ok, R"({"status":"ready"})");
        }
        if (path == "/metrics") {
            co_return make_response(request, http::status::ok, state.metrics->render(),
                                    "text/plain; version=0.0.4; charset=utf-8");
        }
        co_return json_error(request, http::status::not_found, "not found");
    };
}

} // namespace meshdemo
