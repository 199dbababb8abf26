#pragma once

#include "meshdemo/http_client.hpp"
#include "meshdemo/http_types.hpp"
#include "meshdemo/metrics.hpp"
#include "meshdemo/redis_client.hpp"

#include "playlist_catalog.hpp"
#include "video_document.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace playlists_api {

/** How GET / fans out to videos-api: VIDEOS_API_TIMEOUT_MS, FANOUT_LIMIT, REQUEST_BUDGET_MS,
 * MAX_VIDEOS. */
struct fanout_settings {
    std::chrono::milliseconds call_timeout{1000};
    std::size_t limit = 32; ///< video calls of one request in flight at once
    /** For all video calls of one request: calls not done by then are cut off, their videos
     * left out. Below videos-web's PLAYLISTS_API_TIMEOUT_MS, so a partial answer still arrives. */
    std::chrono::milliseconds budget{4000};
    std::size_t max_videos = 1000; ///< more distinct videos in the stored playlists: 500
};

/** Outcomes of calls to videos-api, as counted in metrics. invalid: an answer that is neither
 * a video (200 with one JSON object) nor an error status. */
enum class call_outcome { ok, client_error, server_error, timeout, connection_error, invalid };

/** What playlists-api counts besides requests. */
struct playlists_metrics {
    std::array<meshdemo::counter*, 6> calls_by_outcome{}; ///< indexed by call_outcome
    meshdemo::histogram* call_duration = nullptr;
    meshdemo::counter* videos_omitted = nullptr;
};

/** Registers playlists-api's own metrics. */
playlists_metrics add_playlists_metrics(meshdemo::metrics_registry& registry);

/**
 * Answers GET / with every playlist and its videos: reads the playlists from Redis, then fetches
 * all their videos from videos-api concurrently. A video whose call fails is left out and
 * counted in the X-Videos-Omitted header; retrying is the mesh's job, not ours.
 */
class playlists_handler {
public:
    playlists_handler(meshdemo::redis_client& redis, meshdemo::http_client& videos,
                      fanout_settings fanout, playlists_metrics metrics);

    meshdemo::asio::awaitable<meshdemo::http_response>
    operator()(const meshdemo::http_request& request, meshdemo::request_context& context);

private:
    meshdemo::asio::awaitable<std::optional<std::string>>
    fetch_video(const std::string& id, const meshdemo::request_context& context,
                std::chrono::steady_clock::time_point budget_end);
    /** The plan for a stored value, or why there is none: read once, kept while the stored value
     * stays the same. */
    std::variant<std::shared_ptr<const playlist_plan>, std::string>
    plan_for(const std::string& stored);

    meshdemo::redis_client& redis_;
    meshdemo::http_client& videos_;
    fanout_settings fanout_;
    playlists_metrics metrics_;
    std::string cached_stored_;
    std::shared_ptr<const playlist_plan> cached_plan_;
    std::string cached_problem_; ///< why cached_stored_ cannot be used, when it cannot
    video_document_check is_video_document_;
};

} // namespace playlists_api
