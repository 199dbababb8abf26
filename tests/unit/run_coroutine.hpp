#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <exception>

/** Runs body() to completion on a fresh io_context; rethrows what escaped it. */
template <typename Body> void run_coroutine(Body body) {
    boost::asio::io_context io;
    std::exception_ptr escaped;
    bool finished = false;
    boost::asio::co_spawn(io, body(), [&](std::exception_ptr error) {
        escaped = error;
        finished = true;
    });
    io.run();
    ASSERT_TRUE(finished);
    if (escaped) {
        std::rethrow_exception(escaped);
    }
}
