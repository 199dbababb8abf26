#include "meshdemo/async.hpp"
#include "meshdemo/concurrency.hpp"

#include "run_coroutine.hpp"

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;
using meshdemo::for_each_concurrently;

TEST(ForEachConcurrently, RunsEveryTaskOnceAndNeverMoreThanTheLimitAtATime) {
    std::vector<int> runs(25, 0);
    int active = 0;
    int most_active = 0;
    const auto body = [&]() -> asio::awaitable<void> {
        co_await for_each_concurrently(runs.size(), 4, [&](std::size_t i) -> asio::awaitable<void> {
            ++active;
            most_active = std::max(most_active, active);
            asio::steady_timer pause(co_await asio::this_coro::executor,
                                     std::chrono::milliseconds(i % 3));
            co_await pause.async_wait(meshdemo::use_nothrow);
            ++runs[i];
            --active;
        });
        EXPECT_EQ(active, 0) << "returned before every task finished";
    };
    run_coroutine(body);
    EXPECT_EQ(runs, std::vector<int>(25, 1));
    EXPECT_EQ(most_active, 4);
}

TEST(ForEachConcurrently, NoTasksAndALimitAboveTheCountAreFine) {
    int calls = 0;
    const auto task = [&](std::size_t) -> asio::awaitable<void> {
        ++calls;
        co_return;
    };
    const auto body = [&]() -> asio::awaitable<void> {
        co_await for_each_concurrently(0, 8, task);
        co_await for_each_concurrently(3, 1000, task);
        co_await for_each_concurrently(3, 0, task); // a limit of 0 still makes progress
    };
    run_coroutine(body);
    EXPECT_EQ(calls, 6);
}

TEST(ForEachConcurrently, AnEscapingExceptionIsRethrownAfterEveryLaneFinished) {
    int finished = 0;
    const auto body = [&]() -> asio::awaitable<void> {
        co_await for_each_concurrently(6, 3, [&](std::size_t i) -> asio::awaitable<void> {
            asio::steady_timer pause(co_await asio::this_coro::executor,
                                     std::chrono::milliseconds(2));
            co_await pause.async_wait(meshdemo::use_nothrow);
            if (i == 1) {
                throw std::runtime_error("bug in a task");
            }
            ++finished;
        });
    };
    EXPECT_THROW(run_coroutine(body), std::runtime_error);
    EXPECT_EQ(finished, 5) << "the other lanes took every remaining task";
}
