#include "meshdemo/http_responses.hpp"

#include "meshdemo/json_text.hpp"

namespace meshdemo {

http_response make_response(const http_request& request, http::status status, std::string body,
                            std::string_view content_type) {
    http_response response{status, request.version()};
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    return response;
}

http_response json_response(const http_request& request, http::status status, std::string body) {
    return make_response(request, status, std::move(body), "application/json");
}

http_response json_error(const http_request& request, http::status status,
                         std::string_view message) {
    return json_response(request, status, json_error_body(message));
}

bool is_get_or_head(const http_request& request) {
    return request.method() == http::verb::get || request.method() == http::verb::head;
}

http_response method_not_allowed(const http_request& request) {
    auto response = json_error(request, http::status::method_not_allowed, "method not allowed");
    response.set(http::field::allow, "GET, HEAD");
    return response;
}

} // namespace meshdemo
