#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <utility>

namespace meshdemo {

/**
 * Represents a TCP connection whose reads and writes share one deadline: when it passes, the
 * socket is closed, so that the pending operation and every later one fail, and timed_out()
 * tells that failure from others. A stream for Beast's and Asio's read and write algorithms, in
 * place of beast::tcp_stream. For one single-threaded io_context.
 *
 * One timer per connection, moved lazily: a new deadline is only stored, and the timer, which
 * sleeps at most `longest_sleep` at a time, wakes and sleeps again until the deadline then
 * current. Only a deadline earlier than the timer's next wake-up re-arms it. beast::tcp_stream
 * arms and cancels a timer around every read and write, which costs more than the rest of a
 * small exchange's bookkeeping (bench/FINDINGS.md). With no deadline set, the timer stops at its
 * next wake-up: then nothing of the stream keeps its io_context busy.
 */
class deadline_stream {
public:
    using clock = std::chrono::steady_clock;
    using executor_type = boost::asio::ip::tcp::socket::executor_type;

    /** longest_sleep: the shortest timeout the owner sets, so that setting one costs nothing
     * (a client whose calls each set a deadline a fixed time ahead can pass duration::max():
     * each call's deadline is later than the one the timer sleeps towards). */
    deadline_stream(boost::asio::ip::tcp::socket socket, clock::duration longest_sleep);
    deadline_stream(const executor_type& executor, clock::duration longest_sleep)
        : deadline_stream(boost::asio::ip::tcp::socket(executor), longest_sleep) {}
    ~deadline_stream();
    deadline_stream(const deadline_stream&) = delete;
    deadline_stream& operator=(const deadline_stream&) = delete;

    void expires_at(clock::time_point deadline);
    void expires_after(clock::duration timeout);
    /** No deadline: e.g. while a server's handler works on a request already read. */
    void expires_never() { expires_at(clock::time_point::max()); }
    /** Whether a deadline passed (and the socket was closed for it). */
    bool timed_out() const;
    /** The error of a failed read or write as its caller should see it: beast::error::timeout
     * when the deadline closed the socket under it, as beast::tcp_stream reports. */
    boost::system::error_code failure(const boost::system::error_code& error) const;

    boost::asio::ip::tcp::socket& socket() { return socket_; }
    executor_type get_executor() { return socket_.get_executor(); }

    template <typename Buffers, typename Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        return socket_.async_read_some(buffers, std::forward<Token>(token));
    }
    template <typename Buffers, typename Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        return socket_.async_write_some(buffers, std::forward<Token>(token));
    }

private:
    struct watch_state;
    /** The timer's loop; it ends when no deadline is set, when the deadline passes (closing
     * the socket) or when the stream is destroyed. */
    static boost::asio::awaitable<void> watch(std::shared_ptr<watch_state> state);

    boost::asio::ip::tcp::socket socket_;
    /** Shared with watch(), which may still be queued to run after this stream is gone. */
    std::shared_ptr<watch_state> state_;
};

} // namespace meshdemo
