#include "videos_handler.hpp"

#include "video_id.hpp"

#include "meshdemo/async.hpp"
#include "meshdemo/http_responses.hpp"
#include "meshdemo/logging.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

namespace videos_api {

using namespace meshdemo;

videos_handler::videos_handler(redis_client& redis, fault_injector& faults, videos_metrics metrics)
    : redis_(redis), faults_(faults), metrics_(metrics) {}

asio::awaitable<http_response> videos_handler::operator()(const http_request& request,
                                                          request_context& context) {
    context.route = "/{id}";
    if (!is_get_or_head(request)) {
        co_return method_not_allowed(request);
    }
    const video_id_request video = parse_video_id(request.target());
    if (video.status != http::status::ok) {
        co_return json_error(request, video.status, video.error);
    }

    const fault_decision fault = faults_.next();
    if (fault.delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, fault.delay);
        co_await timer.async_wait(use_nothrow);
    }
    if (fault.fail) {
        metrics_.injected_failures.add();
        if (faults_.settings().mode == failure_mode::drop) {
            context.drop_connection = true;
            co_return http_response{};
        }
        co_return json_error(request, static_cast<http::status>(faults_.settings().failure_status),
                             "injected failure (FLAKY)");
    }

    const redis_reply reply = co_await redis_.get(video.id);
    switch (reply.type) {
    case redis_reply::kind::value:
        co_return json_response(request, http::status::ok, reply.text);
    case redis_reply::kind::nil:
        co_return json_error(request, http::status::not_found, "no video with this id");
    case redis_reply::kind::error:
        break;
    }
    log_line("videos-db unavailable")
        .add("request_id", context.request_id)
        .add("error", reply.text)
        .write(spdlog::level::warn);
    co_return json_error(request, http::status::service_unavailable, "videos database unavailable");
}

} // namespace videos_api
