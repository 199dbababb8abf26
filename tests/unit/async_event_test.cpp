#include "meshdemo/async.hpp"
#include "meshdemo/async_event.hpp"
#include "meshdemo/host_addresses.hpp"

#include "run_coroutine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using meshdemo::async_event;
using namespace std::chrono_literals;
using steady_clock = std::chrono::steady_clock;

namespace {

asio::awaitable<void> pause(std::chrono::milliseconds time) {
    asio::steady_timer timer(co_await asio::this_coro::executor, time);
    co_await timer.async_wait(meshdemo::use_nothrow);
}

} // namespace

TEST(AsyncEvent, NotifyOneWakesTheLongestWaitingFirstAndSaysWhenNobodyWaits) {
    std::vector<std::string> woken;
    run_coroutine([&]() -> asio::awaitable<void> {
        const auto executor = co_await asio::this_coro::executor;
        async_event event(executor);
        EXPECT_FALSE(event.notify_one()) << "nobody waits yet";
        for (const char* name : {"first", "second", "third"}) {
            asio::co_spawn(
                executor,
                [&, name]() -> asio::awaitable<void> {
                    if (co_await event.wait_until(steady_clock::now() + 10s)) {
                        woken.emplace_back(name);
                    }
                },
                asio::detached);
        }
        co_await pause(1ms); // all three are waiting now
        EXPECT_TRUE(event.notify_one());
        EXPECT_TRUE(event.notify_one());
        co_await pause(1ms);
        EXPECT_EQ(woken, (std::vector<std::string>{"first", "second"}));
        event.notify_all();
        co_await pause(1ms);
        EXPECT_EQ(woken.size(), 3u);
        EXPECT_FALSE(event.notify_one()) << "everyone was woken already";
    });
}

TEST(AsyncEvent, AWaitEndsAtItsDeadlineAndLeavesTheQueue) {
    run_coroutine([&]() -> asio::awaitable<void> {
        async_event event(co_await asio::this_coro::executor);
        const auto started = steady_clock::now();
        EXPECT_FALSE(co_await event.wait_until(started + 20ms)) << "nobody notified";
        EXPECT_GE(steady_clock::now() - started, 20ms);
        EXPECT_FALSE(event.notify_one()) << "the waiter that gave up is no longer queued";
    });
}

TEST(AsyncEvent, EveryNotifyOneThatSaysTrueWakesExactlyOneWaiterEvenAsDeadlinesPass) {
    // What http_client relies on to hand over a connection: a waiter whose deadline passes just
    // as it is notified either gets the wake-up (and the connection) or is skipped, never both
    // and never neither. Deadlines and notifications interleave here at random.
    constexpr int waiter_count = 300;
    int woken = 0;
    int timed_out = 0;
    int handed = 0;
    run_coroutine([&]() -> asio::awaitable<void> {
        const auto executor = co_await asio::this_coro::executor;
        async_event event(executor);
        const auto start = steady_clock::now();
        for (int i = 0; i < waiter_count; ++i) {
            asio::co_spawn(
                executor,
                [&, i]() -> asio::awaitable<void> {
                    const auto deadline = start + std::chrono::microseconds((i * 7919) % 30000);
                    ++(co_await event.wait_until(deadline) ? woken : timed_out);
                },
                asio::detached);
        }
        while (woken + timed_out < waiter_count) {
            const auto busy_until = steady_clock::now() + std::chrono::microseconds(150);
            while (steady_clock::now() < busy_until) {
            } // deadlines pass while nobody runs the timers
            // A yield through the queue lets the timers' completions be queued and not yet run.
            co_await asio::post(executor, asio::deferred);
            handed += event.notify_one() ? 1 : 0;
        }
    });
    EXPECT_EQ(woken, handed);
    EXPECT_GT(woken, 0);
    EXPECT_GT(timed_out, 0);
}

TEST(AsyncEvent, AWaiterDestroyedWithItsIoContextLeavesTheQueue) {
    auto io = std::make_unique<asio::io_context>();
    async_event event(io->get_executor());
    asio::co_spawn(
        *io, [&]() -> asio::awaitable<void> { co_await event.wait(); }, asio::detached);
    io->run_for(5ms);
    io.reset(); // destroys the suspended coroutine
    EXPECT_FALSE(event.notify_one());
}

TEST(HostAddresses, FindsANumericAddressAndKeepsIt) {
    run_coroutine([&]() -> asio::awaitable<void> {
        meshdemo::host_addresses peer(co_await asio::this_coro::executor, "127.0.0.1", 6379);
        const auto first = co_await peer.get(steady_clock::now() + 2s);
        EXPECT_FALSE(first.error) << first.error.message();
        EXPECT_EQ(first.endpoints.begin()->endpoint().port(), 6379);
        const auto again = co_await peer.get(steady_clock::now()); // no time to look up: kept
        EXPECT_FALSE(again.error) << again.error.message();
    });
}

TEST(HostAddresses, ANameThatCannotBeLookedUpIsAnErrorAndAPassedDeadlineATimeout) {
    run_coroutine([&]() -> asio::awaitable<void> {
        meshdemo::host_addresses peer(co_await asio::this_coro::executor, "no-such-host.invalid",
                                      80);
        const auto impatient = co_await peer.get(steady_clock::now());
        EXPECT_EQ(impatient.error, asio::error::timed_out);
        const auto patient = co_await peer.get(steady_clock::now() + 10s); // the same lookup
        EXPECT_TRUE(patient.error);
        EXPECT_NE(patient.error, asio::error::timed_out);
    });
}
