#include "playlists_handler.hpp"

#include "playlist_catalog.hpp"

#include "meshdemo/concurrency.hpp"
#include "meshdemo/http_responses.hpp"
#include "meshdemo/logging.hpp"
#include "meshdemo/url.hpp"

#include <algorithm>

namespace playlists_api {

using namespace meshdemo;

playlists_metrics add_playlists_metrics(metrics_registry& registry) {
    playlists_metrics metrics;
    const std::string calls = "http_client_requests_total";
    const std::string help = "Calls to videos-api, by outcome.";
    const char* outcomes[] = {"ok", "4xx", "5xx", "timeout", "connection_error", "invalid"};
    for (std::size_t i = 0; i < metrics.calls_by_outcome.size(); ++i) {
        metrics.calls_by_outcome[i] =
            &registry.add_counter(calls, help, {{"peer", "videos-api"}, {"outcome", outcomes[i]}});
    }
    metrics.call_duration =
        &registry.add_histogram("http_client_request_duration_seconds",
                                "Time of calls to videos-api.", {{"peer", "videos-api"}});
    metrics.videos_omitted = &registry.add_counter(
        "playlists_videos_omitted_total",
        "Videos left out of answers because their call failed or the request's budget ran out.");
    return metrics;
}

playlists_handler::playlists_handler(redis_client& redis, http_client& videos,
                                     fanout_settings fanout, playlists_metrics metrics)
    : redis_(redis), videos_(videos), fanout_(fanout), metrics_(metrics) {}

asio::awaitable<http_response> playlists_handler::operator()(const http_request& request,
                                                             request_context& context) {
    // "/api/playlists" too: the entry may route the page's data request here unstripped.
    if (const auto path = target_path(request.target()); path != "/" && path != "/api/playlists") {
        co_return json_error(request, http::status::not_found, "not found: ask for /");
    }
    context.route = "/";
    if (!is_get_or_head(request)) {
        co_return method_not_allowed(request);
    }

    // From the request's start: Redis's time counts too, so the answer beats videos-web's timeout.
    const auto budget_end = std::chrono::steady_clock::now() + fanout_.budget;
    const redis_reply stored = co_await redis_.get("playlists");
    if (stored.type == redis_reply::kind::error) {
        log_line("playlists-db unavailable")
            .add("request_id", context.request_id)
            .add("error", stored.text)
            .write(spdlog::level::warn);
        co_return json_error(request, http::status::service_unavailable,
                             "playlists database unavailable");
    }
    if (stored.type == redis_reply::kind::nil) {
        co_return json_response(request, http::status::ok, "[]");
    }
    auto read = plan_for(stored.text);
    if (const auto* problem = std::get_if<std::string>(&read)) {
        log_line("stored playlists unusable")
            .add("request_id", context.request_id)
            .add("error", *problem)
            .write(spdlog::level::err);
        co_return json_error(request, http::status::internal_server_error, *problem);
    }
    // Shared: a newer stored value may replace the cached plan while this request runs.
    const std::shared_ptr<const playlist_plan> plan_owner = std::get<0>(std::move(read));
    const playlist_plan& plan = *plan_owner;

    std::vector<std::optional<std::string>> videos(plan.video_ids.size());
    std::size_t never_sent = 0;
    co_await for_each_concurrently(
        plan.video_ids.size(), fanout_.limit, [&](std::size_t i) -> asio::awaitable<void> {
            if (std::chrono::steady_clock::now() >= budget_end) {
                ++never_sent; // the budget was spent on the calls before it
                co_return;
            }
            videos[i] = co_await fetch_video(plan.video_ids[i], context, budget_end);
        });
    if (never_sent > 0) { // one line for all of them, not one per video
        log_line("videos left out unasked")
            .add("request_id", context.request_id)
            .add("count", static_cast<std::int64_t>(never_sent))
            .add("reason", "the request's budget (REQUEST_BUDGET_MS) ran out before their calls")
            .write(spdlog::level::warn);
    }
    catalog answer = merge_catalog(plan, videos);
    metrics_.videos_omitted->add(answer.videos_omitted);

    http_response response = json_response(request, http::status::ok, std::move(answer.body));
    response.set("X-Videos-Total", std::to_string(answer.videos_total));
    response.set("X-Videos-Omitted", std::to_string(answer.videos_omitted));
    co_return response;
}

std::variant<std::shared_ptr<const playlist_plan>, std::string>
playlists_handler::plan_for(const std::string& stored) {
    // The verdict on a stored value, plan or problem, is kept while the value stays the same:
    // a value too large to use is not read again on every request.
    if (stored != cached_stored_ || (!cached_plan_ && cached_problem_.empty())) {
        cached_plan_.reset();
        cached_problem_.clear();
        auto read = read_playlists(stored);
        if (auto* problem = std::get_if<std::string>(&read)) {
            cached_problem_ = std::move(*problem);
        } else if (const auto count = std::get<playlist_plan>(read).video_ids.size();
                   count > fanout_.max_videos) {
            cached_problem_ = "the stored playlists name " + std::to_string(count) +
                              " videos, more than MAX_VIDEOS (" +
                              std::to_string(fanout_.max_videos) + ")";
        } else {
            cached_plan_ =
                std::make_shared<const playlist_plan>(std::get<playlist_plan>(std::move(read)));
        }
        cached_stored_ = stored;
    }
    if (!cached_plan_) {
        return cached_problem_;
    }
    return cached_plan_;
}

asio::awaitable<std::optional<std::string>>
playlists_handler::fetch_video(const std::string& id, const request_context& context,
                               std::chrono::steady_clock::time_point budget_end) {
    const auto started = std::chrono::steady_clock::now();
    call_result call = co_await videos_.get("/" + percent_encode(id), context.propagated_headers,
                                            std::min(started + fanout_.call_timeout, budget_end));
    metrics_.call_duration->observe(std::chrono::steady_clock::now() - started);

    call_outcome outcome = call_outcome::ok;
    std::string problem;
    std::optional<std::string> video;
    if (!call.answered()) {
        switch (call.failure) {
        case call_failure::timeout:
            outcome = call_outcome::timeout;
            break;
        case call_failure::too_large:
            outcome = call_outcome::invalid;
            break;
        default:
            outcome = call_outcome::connection_error;
        }
        problem = call.error;
    } else if (const unsigned status = call.response.result_int(); status >= 500) {
        outcome = call_outcome::server_error;
        problem = "videos-api answered " + std::to_string(status);
    } else if (status >= 400) {
        outcome = call_outcome::client_error;
        problem = "videos-api answered " + std::to_string(status);
    } else if (status == 200 && is_video_document_(call.response.body())) {
        video = std::move(call.response.body());
    } else {
        outcome = call_outcome::invalid;
        problem = "videos-api answered " + std::to_string(status) + " with no video";
    }
    metrics_.calls_by_outcome[static_cast<std::size_t>(outcome)]->add();
    if (!problem.empty()) {
        log_line("video left out")
            .add("request_id", context.request_id)
            .add("video_id", id)
            .add("reason", problem)
            .write(spdlog::level::warn);
    }
    co_return video;
}

} // namespace playlists_api
