#include "meshdemo/async.hpp"
#include "meshdemo/deadline_stream.hpp"

#include "run_coroutine.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>

namespace asio = boost::asio;
using meshdemo::deadline_stream;
using meshdemo::use_nothrow;
using namespace std::chrono_literals;
using steady_clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

namespace {

/** Both ends of a loopback connection: `near` in a deadline_stream, `far` a plain socket that
 * sends nothing unless the test says so. */
struct connected_pair {
    std::unique_ptr<deadline_stream> near;
    tcp::socket far;
};

asio::awaitable<connected_pair> connect_pair(steady_clock::duration longest_sleep) {
    const auto executor = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(executor, {asio::ip::make_address("127.0.0.1"), 0});
    auto near = std::make_unique<deadline_stream>(executor, longest_sleep);
    co_await near->socket().async_connect(acceptor.local_endpoint(), use_nothrow);
    auto [ec, far] = co_await acceptor.async_accept(use_nothrow);
    EXPECT_FALSE(ec) << ec.message();
    co_return connected_pair{std::move(near), std::move(far)};
}

asio::awaitable<void> pause(steady_clock::duration time) {
    asio::steady_timer timer(co_await asio::this_coro::executor, time);
    co_await timer.async_wait(use_nothrow);
}

/** Reads from the stream until it fails; how long that took. Should the deadline never cut the
 * read off, the far end closes after 3 s, so that the test fails instead of hanging. */
asio::awaitable<steady_clock::duration> read_until_failure(connected_pair& pair,
                                                           boost::system::error_code& failure) {
    auto& stream = *pair.near;
    asio::steady_timer guard(stream.get_executor(), 3s);
    guard.async_wait([&far = pair.far](const boost::system::error_code& ec) {
        if (!ec) {
            far.close();
        }
    });
    const auto started = steady_clock::now();
    std::array<char, 64> sink;
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
        if (ec) {
            failure = stream.failure(ec);
            guard.cancel();
            co_return steady_clock::now() - started;
        }
    }
}

} // namespace

TEST(DeadlineStream, AReadThatGetsNothingFailsAtTheDeadlineAsATimeout) {
    run_coroutine([]() -> asio::awaitable<void> {
        auto pair = co_await connect_pair(10s);
        pair.near->expires_after(100ms);
        boost::system::error_code failure;
        const auto took = co_await read_until_failure(pair, failure);
        EXPECT_EQ(failure, boost::beast::error::timeout) << failure.message();
        EXPECT_TRUE(pair.near->timed_out());
        EXPECT_GE(took, 90ms);
        EXPECT_LT(took, 2s);
        EXPECT_FALSE(pair.near->socket().is_open()) << "the deadline closes the connection";
    });
}

TEST(DeadlineStream, AnEarlierDeadlineWakesTheTimerThatSleepsTowardsALaterOne) {
    run_coroutine([]() -> asio::awaitable<void> {
        auto pair = co_await connect_pair(steady_clock::duration::max());
        pair.near->expires_after(60s);
        co_await pause(20ms); // the timer now sleeps towards the 60 s deadline
        pair.near->expires_after(100ms);
        boost::system::error_code failure;
        const auto took = co_await read_until_failure(pair, failure);
        EXPECT_EQ(failure, boost::beast::error::timeout) << failure.message();
        EXPECT_LT(took, 2s) << "the earlier deadline must cut the read off, not the 60 s one";
    });
}

TEST(DeadlineStream, ADeadlineMovedLaterIsKeptAndNeverIsNoTimeout) {
    run_coroutine([]() -> asio::awaitable<void> {
        // longest_sleep 50 ms: the timer wakes several times while the deadline moves on.
        auto pair = co_await connect_pair(50ms);
        for (int i = 0; i < 5; ++i) {
            pair.near->expires_after(300ms);
            co_await pause(100ms);
        }
        pair.near->expires_never();
        co_await pause(400ms);
        EXPECT_FALSE(pair.near->timed_out()) << "no deadline passed: each moved before it came";
        const std::string hello = "hello";
        co_await asio::async_write(pair.far, asio::buffer(hello), use_nothrow);
        std::array<char, 16> got{};
        auto [ec, n] = co_await pair.near->async_read_some(asio::buffer(got), use_nothrow);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(std::string(got.data(), n), hello);
    });
}

TEST(DeadlineStream, ADeadlineMovedLaterStillCutsOffAtItsNewTime) {
    run_coroutine([]() -> asio::awaitable<void> {
        auto pair = co_await connect_pair(50ms);
        pair.near->expires_after(200ms);
        co_await pause(100ms);
        pair.near->expires_after(300ms); // later than the first: the timer wakes and sleeps on
        boost::system::error_code failure;
        const auto took = co_await read_until_failure(pair, failure);
        EXPECT_EQ(failure, boost::beast::error::timeout) << failure.message();
        EXPECT_GE(took, 290ms) << "cut off at the first deadline, not the one it was moved to";
        EXPECT_LT(took, 2s);
    });
}

TEST(DeadlineStream, DestroyedWhileItsTimerSleepsStopsTheTimer) {
    const auto started = steady_clock::now();
    run_coroutine([]() -> asio::awaitable<void> {
        auto pair = co_await connect_pair(10s);
        pair.near->expires_after(5s);
        co_await pause(20ms); // the timer now sleeps towards the 5 s deadline
        pair.near.reset();    // ASan checks that the timer's loop touches nothing of it
        std::array<char, 16> got{};
        auto [ec, n] = co_await pair.far.async_read_some(asio::buffer(got), use_nothrow);
        EXPECT_EQ(ec, asio::error::eof) << "the far end sees the close of the destroyed stream";
    });
    EXPECT_LT(steady_clock::now() - started, 2s)
        << "the destroyed stream's timer kept the io_context busy until its deadline";
}

TEST(DeadlineStream, WithoutADeadlineItKeepsNoWorkPending) {
    // A pooled client connection lives on with no deadline: its io_context must be able to run
    // out of work, as with beast::tcp_stream.
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    deadline_stream stream(io.get_executor(), 10s);
    stream.socket().connect(acceptor.local_endpoint());
    stream.expires_after(50ms);
    io.run_for(20ms); // the timer now sleeps towards the deadline
    stream.expires_never();
    io.run_for(3s);
    EXPECT_TRUE(io.stopped()) << "work was still pending after 3 s";
    EXPECT_FALSE(stream.timed_out());
}
