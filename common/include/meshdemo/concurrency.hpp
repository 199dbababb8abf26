#pragma once

#include "meshdemo/async_event.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>

namespace meshdemo {

/**
 * Runs task(0) .. task(count - 1) concurrently, at most `limit` at a time, and returns when all
 * are done. For one single-threaded io_context: the lanes share their counters unlocked.
 * Each task handles its own errors; an exception escaping a task is a bug and is rethrown once
 * every lane has finished.
 *
 * Plain co_spawn plus a join counter, not Asio's parallel_group: its per-lane cancellation slots
 * allocate on every operation inside a lane.
 */
template <typename Task>
boost::asio::awaitable<void> for_each_concurrently(std::size_t count, std::size_t limit,
                                                   Task task) {
    namespace asio = boost::asio;
    if (count == 0) {
        co_return;
    }
    const auto executor = co_await asio::this_coro::executor;
    const std::size_t lane_count = std::min(count, std::max<std::size_t>(limit, 1));
    std::size_t next = 0;
    std::size_t running = lane_count;
    std::exception_ptr failure;
    async_event all_done(executor);

    auto lane = [&]() -> asio::awaitable<void> {
        while (next < count) {
            const std::size_t index = next++;
            co_await task(index);
        }
    };
    const auto lane_finished = [&](std::exception_ptr error) {
        if (error && !failure) {
            failure = error;
        }
        if (--running == 0) {
            all_done.notify_all();
        }
    };
    for (std::size_t i = 0; i < lane_count; ++i) {
        asio::co_spawn(executor, lane(), lane_finished);
    }
    if (running > 0) {
        co_await all_done.wait();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

} // namespace meshdemo
