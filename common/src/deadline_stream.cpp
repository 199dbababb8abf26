#include "meshdemo/deadline_stream.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>

namespace meshdemo {

namespace asio = boost::asio;

struct deadline_stream::watch_state {
    watch_state(asio::ip::tcp::socket& watched, clock::duration sleep)
        : timer(watched.get_executor()), socket(&watched), longest_sleep(sleep) {}

    asio::steady_timer timer;
    asio::ip::tcp::socket* socket; ///< null once the stream is destroyed
    clock::duration longest_sleep;
    clock::time_point deadline = clock::time_point::max();
    bool watching = false; ///< watch() runs: it does while a deadline is set, and a while after
    bool timed_out = false;
};

deadline_stream::deadline_stream(asio::ip::tcp::socket socket, clock::duration longest_sleep)
    : socket_(std::move(socket)),
      // At least a millisecond: a timer re-armed at "now" over and over would spin.
      state_(std::make_shared<watch_state>(
          socket_, std::max<clock::duration>(longest_sleep, std::chrono::milliseconds(1)))) {}

deadline_stream::~deadline_stream() {
    state_->socket = nullptr;
    state_->timer.cancel();
}

void deadline_stream::expires_at(clock::time_point deadline) {
    state_->deadline = deadline;
    if (deadline == clock::time_point::max() || state_->timed_out) {
        return;
    }
    if (!state_->watching) {
        state_->watching = true;
        asio::co_spawn(socket_.get_executor(), watch(state_), asio::detached);
    } else if (deadline < state_->timer.expiry()) {
        state_->timer.cancel(); // wakes watch(), which then sleeps until this earlier deadline
    }
}

void deadline_stream::expires_after(clock::duration timeout) {
    const auto now = clock::now();
    expires_at(timeout < clock::time_point::max() - now ? now + timeout : clock::time_point::max());
}

bool deadline_stream::timed_out() const {
    return state_->timed_out;
}

boost::system::error_code deadline_stream::failure(const boost::system::error_code& error) const {
    if (state_->timed_out) {
        return boost::beast::error::timeout;
    }
    return error;
}

asio::awaitable<void> deadline_stream::watch(std::shared_ptr<watch_state> state) {
    // Ends when no deadline is set, so that a connection without one (a pooled client
    // connection) keeps no operation pending: its io_context can run out of work.
    while (state->socket != nullptr && state->deadline != clock::time_point::max()) {
        const auto now = clock::now();
        if (now >= state->deadline) {
            state->timed_out = true;
            boost::system::error_code ignored;
            state->socket->close(ignored); // fails the pending operation and all later ones
            break;
        }
        const bool far = state->deadline - now > state->longest_sleep;
        state->timer.expires_at(far ? now + state->longest_sleep : state->deadline);
        co_await state->timer.async_wait(use_nothrow); // cancelled: destroyed, or moved earlier
    }
    state->watching = false;
}

} // namespace meshdemo
