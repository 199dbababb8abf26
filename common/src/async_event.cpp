#include "meshdemo/async_event.hpp"

#include "meshdemo/async.hpp"

namespace meshdemo {

namespace asio = boost::asio;

asio::awaitable<bool> async_event::wait_until(std::chrono::steady_clock::time_point deadline) {
    waiter self{{}, asio::steady_timer(executor_, deadline)};
    waiting_.push_back(self);
    auto [ec] = co_await self.wake.async_wait(use_nothrow);
    // Cancelled means notified; notify_one() and notify_all() have unlinked us already, and the
    // hook unlinks a waiter whose deadline passed when it goes out of scope.
    co_return ec == asio::error::operation_aborted;
}

bool async_event::notify_one() {
    while (!waiting_.empty()) {
        waiter& next = waiting_.front();
        waiting_.pop_front();
        if (next.wake.cancel() > 0) {
            return true;
        }
        // Its deadline passed already and its wake-up is on the way: try the next one.
    }
    return false;
}

void async_event::notify_all() {
    while (notify_one()) {
    }
}

} // namespace meshdemo
