// Shutdown and outages under load: draining on SIGTERM, Redis killed and restarted.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <future>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <unistd.h>

using namespace harness;

namespace {

env_map with_db(const seeded_redis& db, env_map env) {
    env.emplace("REDIS_HOST", "127.0.0.1");
    env.emplace("REDIS_PORT", std::to_string(db.port()));
    return env;
}

/** A service's JSON log, read line by line. */
struct log_summary {
    std::size_t requests = 0; ///< request lines of route /{id}
    std::size_t dropped = 0;  ///< the counts of "log lines dropped" notices
    std::string last;         ///< msg of the last line
    std::string cut_line;     ///< the first line that is not one JSON object, if any
};

log_summary summarize_log(const std::string& output) {
    log_summary summary;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object()) {
            summary.cut_line = line;
            break;
        }
        const std::string message = parsed.value("msg", "");
        if (message == "request" && parsed.value("route", "") == "/{id}") {
            ++summary.requests;
        } else if (message.rfind("log lines dropped", 0) == 0) {
            summary.dropped += parsed.value("count", std::size_t{0});
        }
        summary.last = message;
    }
    return summary;
}

} // namespace

TEST(Lifecycle, SigtermDuringLoadFailsNoRequestAndExitsZero) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(),
                with_db(db, {{"SHUTDOWN_DELAY_MS", "1500"}, {"SHUTDOWN_GRACE_MS", "3000"}}));
    auto load = std::async(std::launch::async,
                           [&] { return run_load(api.port(), "/jM36M39MA3I", 4, 1000ms); });
    std::this_thread::sleep_for(300ms);
    const auto signalled = std::chrono::steady_clock::now();
    api.process().send(SIGTERM);
    EXPECT_TRUE(
        eventually([&] { return http_get(api.admin_port(), "/readyz").status == 503; }, 1s));
    const load_result result = load.get();
    EXPECT_GT(result.sent, 100u);
    EXPECT_EQ(result.failed, 0u) << (result.errors.empty() ? "" : result.errors.front());
    EXPECT_EQ(result.by_status.at(200), result.sent);
    const auto code = api.process().wait_exit(6s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - signalled, 1500ms + 3000ms + 500ms);
}

TEST(Lifecycle, InFlightRequestsFinishAfterSigterm) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), with_db(db, {{"LATENCY_MS", "800"}}));
    auto slow =
        std::async(std::launch::async, [&] { return http_get(api.port(), "/jM36M39MA3I"); });
    std::this_thread::sleep_for(200ms);
    api.process().send(SIGTERM);
    EXPECT_EQ(slow.get().status, 200u);
    const auto code = api.process().wait_exit(5s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);
    // New connections are refused once draining is over.
    EXPECT_EQ(http_get(api.port(), "/jM36M39MA3I").status, 0u);
}

TEST(Lifecycle, RedisKilledAndRestartedDuringLoad) {
    seeded_redis db("videos-db");
    service api(videos_api_binary(), with_db(db, {}));
    std::mutex mutex;
    std::vector<std::pair<std::chrono::steady_clock::time_point, unsigned>> answers;
    auto load = std::async(std::launch::async, [&] {
        return run_load(api.port(), "/jM36M39MA3I", 2, 4000ms, [&](const answer& got) {
            std::lock_guard lock(mutex);
            answers.emplace_back(std::chrono::steady_clock::now(), got.status);
        });
    });
    std::this_thread::sleep_for(700ms);
    const auto outage_start = std::chrono::steady_clock::now();
    db.stop();
    std::this_thread::sleep_for(1000ms);
    db.start();
    const auto outage_end = std::chrono::steady_clock::now();
    const load_result result = load.get();
    EXPECT_EQ(result.failed, 0u);
    EXPECT_GT(result.by_status.count(503), 0u);
    std::size_t errors_outside = 0;
    std::size_t ok_after = 0;
    for (const auto& [when, status] : answers) {
        EXPECT_TRUE(status == 200 || status == 503) << status;
        // Reconnection backoff is at most 2 s: allow that after the restart.
        if (status == 503 && (when < outage_start || when > outage_end + 2500ms)) {
            ++errors_outside;
        }
        ok_after += status == 200 && when > outage_end ? 1u : 0u;
    }
    EXPECT_EQ(errors_outside, 0u);
    EXPECT_GT(ok_after, 0u);
    EXPECT_TRUE(api.process().running());
}

TEST(Lifecycle, EveryRequestLineIsWrittenWholeByTheTimeTheServiceExits) {
    seeded_redis db("videos-db");
    service api(
        videos_api_binary(),
        with_db(db, {{"LOG_LEVEL", "info"}, {"LOG_FORMAT", "json"}, {"SHUTDOWN_DELAY_MS", "0"}}));
    const load_result result = run_load(api.port(), "/jM36M39MA3I", 4, 700ms);
    ASSERT_GT(result.sent, 100u);
    ASSERT_EQ(result.failed, 0u);
    api.process().send(SIGTERM);
    const auto code = api.process().wait_exit(5s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);

    // Lines go out in batches from a writer thread: none may be lost, cut or interleaved.
    const log_summary log = summarize_log(api.log());
    EXPECT_EQ(log.cut_line, "");
    EXPECT_EQ(log.requests, result.sent);
    EXPECT_EQ(log.dropped, 0u);
    EXPECT_EQ(log.last, "stopped");
}

TEST(Lifecycle, LogLinesStayWholeOnANonBlockingStdoutNobodyReadsForAWhile) {
    // stdout handed over non-blocking, and not read during the load: the writer must wait for
    // room rather than cut a line, drop what does not fit, and say how many it dropped.
    int ends[2];
    ASSERT_EQ(pipe2(ends, O_CLOEXEC), 0);
    const int read_end = ends[0];
    const int write_end = ends[1];
    ASSERT_EQ(fcntl(write_end, F_SETFL, fcntl(write_end, F_GETFL) | O_NONBLOCK), 0);
    seeded_redis db("videos-db");
    service api(videos_api_binary(),
                with_db(db, {{"LOG_LEVEL", "info"}, {"SHUTDOWN_DELAY_MS", "0"}}), true, write_end);
    close(write_end); // the service holds the only one: end of file when it exits
    // Long enough to write well over the writer's 1 MiB and the pipe's 64 KiB, even under ASan.
    const load_result result = run_load(api.port(), "/jM36M39MA3I", 4, 3s);
    ASSERT_GT(result.sent, 1000u);
    ASSERT_EQ(result.failed, 0u);
    api.process().send(SIGTERM);

    std::string output;
    char chunk[65536];
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        const ssize_t n = read(read_end, chunk, sizeof chunk);
        if (n <= 0 || std::chrono::steady_clock::now() > give_up) {
            break;
        }
        output.append(chunk, static_cast<std::size_t>(n));
    }
    close(read_end);
    const auto code = api.process().wait_exit(5s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0);

    const log_summary log = summarize_log(output);
    EXPECT_EQ(log.cut_line, "");
    EXPECT_GT(log.dropped, 0u) << "the pipe never filled: the test did not test anything";
    // The dropped count may include the "shutting down" and "stopped" lines, logged while the
    // buffer was full; then the last line is the notice that counts them.
    EXPECT_GE(log.requests + log.dropped, result.sent) << "a request line vanished uncounted";
    EXPECT_LE(log.requests + log.dropped, result.sent + 2);
    EXPECT_TRUE(log.last == "stopped" || log.last.rfind("log lines dropped", 0) == 0) << log.last;
}

TEST(Lifecycle, AStdoutNobodyEverReadsNeitherHangsTheExitNorHidesTheLoss) {
    // A blocking pipe that is never read until the service has exited: the writer cannot write
    // its last lines, so it must give up within its limit and say so on stderr.
    int ends[2];
    ASSERT_EQ(pipe2(ends, O_CLOEXEC), 0);
    const int read_end = ends[0];
    const int write_end = ends[1];
    seeded_redis db("videos-db");
    service api(videos_api_binary(),
                with_db(db, {{"LOG_LEVEL", "info"}, {"SHUTDOWN_DELAY_MS", "0"}}), true, write_end);
    close(write_end);
    const load_result result = run_load(api.port(), "/jM36M39MA3I", 2, 1s);
    ASSERT_GT(result.sent, 500u) << "too few lines to fill the pipe's 64 KiB";
    const auto stopping = std::chrono::steady_clock::now();
    api.process().send(SIGTERM);
    const auto code = api.process().wait_exit(8s);
    const auto took = std::chrono::steady_clock::now() - stopping;
    close(read_end);
    ASSERT_TRUE(code) << "still running 8 s after SIGTERM: the log writer hangs the exit";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(took, 5s);
    EXPECT_NE(api.log().find("log lines dropped at exit"), std::string::npos) << api.log();
}
