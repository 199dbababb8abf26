// videos-api: answers GET /{id} with one video from the videos database.
#include "videos_handler.hpp"

#include "meshdemo/redis_worker.hpp"
#include "meshdemo/service_runtime.hpp"

#include <random>

using namespace meshdemo;

namespace {

/** What every worker of videos-api is made from: its settings and shared counters. */
struct videos_setup {
    redis_setup database;
    fault_settings faults;
    std::uint64_t first_seed = 0; ///< worker i draws its faults from first_seed + i
    videos_api::videos_metrics* metrics = nullptr;
};

/** What one worker thread of videos-api holds: its database connection (the base class), its
 * own fault dice and the handler that uses both. */
class videos_worker final : public redis_worker {
public:
    videos_worker(asio::io_context& io, const videos_setup& setup, std::size_t index)
        : redis_worker(io, setup.database), faults_(setup.faults, setup.first_seed + index),
          handler_(database_, faults_, *setup.metrics) {
        answer_with(handler_);
    }

private:
    fault_injector faults_;
    videos_api::videos_handler handler_;
};

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const main_port main{reader.port("PORT", 10010), {"/{id}", "other"}, true};
    videos_setup setup;
    setup.database = read_redis_setup(reader, "videos-db", runtime.metrics());
    setup.faults = read_fault_settings(reader);
    setup.first_seed = static_cast<std::uint64_t>(reader.integer(
        "FLAKY_SEED", static_cast<std::int64_t>(std::random_device{}() >> 1), 0, INT64_MAX));

    videos_api::videos_metrics metrics{runtime.metrics().add_counter(
        "fault_injected_failures_total", "Requests failed on purpose (FLAKY).")};
    setup.metrics = &metrics;
    runtime.serve(main, [&setup](asio::io_context& io, std::size_t index) {
        return std::make_unique<videos_worker>(io, setup, index);
    });
}

} // namespace

int main(int argc, char** argv) {
    return run_service("videos-api", argc, argv, set_up);
}
