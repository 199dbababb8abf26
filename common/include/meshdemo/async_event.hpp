#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>

namespace meshdemo {

/**
 * Represents something coroutines wait for, each until its own deadline: "a connection is free",
 * "the lookup ended", "the last task is done". For one single-threaded io_context.
 *
 * A waiter sleeps on a timer of its own that expires at its deadline; notifying cancels that
 * timer. Waiters are linked into the event through their coroutine frames, so waiting
 * allocates nothing beyond the timer, and a waiter whose coroutine is destroyed (shutdown)
 * leaves the queue by itself. The event must outlive its waiters.
 */
class async_event {
public:
    explicit async_event(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
    async_event(const async_event&) = delete;
    async_event& operator=(const async_event&) = delete;

    /** Waits until notified or until deadline; true when notified. */
    boost::asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline);
    /** Waits until notified (true). */
    boost::asio::awaitable<bool> wait() {
        return wait_until(std::chrono::steady_clock::time_point::max());
    }

    /** Wakes the longest waiting coroutine whose deadline has not passed yet; false when there
     * is none. A woken waiter can be handed something (a connection) and be sure to get it. */
    bool notify_one();
    /** Wakes every waiting coroutine. */
    void notify_all();

private:
    using auto_unlink_hook = boost::intrusive::list_base_hook<
        boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
    struct waiter : auto_unlink_hook {
        boost::asio::steady_timer wake;
    };
    using waiter_list = boost::intrusive::list<waiter, boost::intrusive::constant_time_size<false>>;

    boost::asio::any_io_executor executor_;
    waiter_list waiting_;
};

} // namespace meshdemo
