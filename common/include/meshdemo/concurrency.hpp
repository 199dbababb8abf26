#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace meshdemo {

/**
 * Runs task(0) .. task(count - 1) concurrently, at most `limit` at a time, and returns when all
 * are done. For one single-threaded io_context: the tasks share their index counter unlocked.
 * Each task handles its own errors; an exception escaping a task is a bug and is rethrown.
 */
template <typename Task>
boost::asio::awaitable<void> for_each_concurrently(std::size_t count, std::size_t limit,
                                                   Task task) {
    namespace asio = boost::asio;
    if (count == 0) {
        co_return;
    }
    std::size_t next = 0;
    auto lane = [&]() -> asio::awaitable<void> {
        while (next < count) {
            const std::size_t index = next++;
            co_await task(index);
        }
    };
    const auto executor = co_await asio::this_coro::executor;
    using operation = decltype(asio::co_spawn(executor, lane(), asio::deferred));
    std::vector<operation> lanes;
    const std::size_t lane_count = std::min(count, std::max<std::size_t>(limit, 1));
    lanes.reserve(lane_count);
    for (std::size_t i = 0; i < lane_count; ++i) {
        lanes.push_back(asio::co_spawn(executor, lane(), asio::deferred));
    }
    auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(lanes))
                               .async_wait(asio::experimental::wait_for_all(), asio::deferred);
    for (const auto& error : errors) {
        if (error) {
            std::rethrow_exception(error);
        }
    }
}

} // namespace meshdemo
