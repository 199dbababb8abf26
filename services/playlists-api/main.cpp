// playlists-api: answers GET / with the playlists and their videos, fetched from videos-api.
#include "playlists_handler.hpp"

#include "meshdemo/redis_worker.hpp"
#include "meshdemo/service_runtime.hpp"

using namespace meshdemo;

namespace {

/** What every worker of playlists-api is made from: its settings and shared counters. */
struct playlists_setup {
    redis_setup database;
    http_url videos_api;
    http_client_options videos_api_options;
    playlists_api::fanout_settings fanout;
    playlists_api::playlists_metrics metrics;
};

/** What one worker thread of playlists-api holds: its database connection (the base class),
 * its pool of connections to videos-api and the handler that uses both. Ready when this pod can
 * answer: its own database. Not videos-api: without it the answer is a partial catalog, and an
 * outage there must not take playlists-api out of its Service. */
class playlists_worker final : public redis_worker {
public:
    playlists_worker(asio::io_context& io, const playlists_setup& setup)
        : redis_worker(io, setup.database),
          videos_api_(io, setup.videos_api, setup.videos_api_options),
          handler_(database_, videos_api_, setup.fanout, setup.metrics) {
        answer_with(handler_);
    }

private:
    http_client videos_api_;
    playlists_api::playlists_handler handler_;
};

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const main_port main{reader.port("PORT", 10010), {"/", "other"}, true};
    playlists_setup setup;
    setup.database = read_redis_setup(reader, "playlists-db", runtime.metrics());
    setup.videos_api = reader.url("VIDEOS_API_URL", "http://videos-api:10010");
    setup.fanout = {reader.milliseconds("VIDEOS_API_TIMEOUT_MS", 1000, 1, 600000),
                    static_cast<std::size_t>(reader.integer("FANOUT_LIMIT", 32, 1, 1024)),
                    reader.milliseconds("REQUEST_BUDGET_MS", 4000, 1, 600000),
                    static_cast<std::size_t>(reader.integer("MAX_VIDEOS", 1000, 1, 100000))};
    setup.videos_api_options.max_connections =
        static_cast<std::size_t>(reader.integer("VIDEOS_API_CONNECTIONS", 64, 1, 65536));
    setup.videos_api_options.max_answer_bytes =
        static_cast<std::size_t>(reader.integer("MAX_VIDEO_BYTES", 65536, 1024, 8 * 1024 * 1024));

    setup.metrics = playlists_api::add_playlists_metrics(runtime.metrics());
    runtime.serve(main, [&setup](asio::io_context& io, std::size_t) {
        return std::make_unique<playlists_worker>(io, setup);
    });
}

} // namespace

int main(int argc, char** argv) {
    return run_service("playlists-api", argc, argv, set_up);
}
