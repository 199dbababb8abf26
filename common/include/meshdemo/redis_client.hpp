#pragma once

#include "meshdemo/metrics.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace meshdemo {

/** The answer to one Redis command: a value, nil (no such key), or an error. */
struct redis_reply {
    enum class kind { value, nil, error };
    kind type = kind::error;
    /** The value, or what went wrong. */
    std::string text;

    static redis_reply error(std::string message) { return {kind::error, std::move(message)}; }
};

/** Where a Redis server is and how long a command, or making the connection, may take. */
struct redis_options {
    std::string host;
    std::uint16_t port = 6379;
    /** For a command's reply, and for resolving and connecting (then backoff and a new try). */
    std::chrono::milliseconds command_timeout{1000};
};

/**
 * Represents one asynchronous connection to a Redis server, for one single-threaded io_context.
 *
 * hiredis does the protocol; its socket is watched with Asio so that commands never block the
 * event loop. The connection is made in the background and remade with backoff whenever it is
 * lost, so a Redis restart is survived without restarting the service. Commands issued while
 * disconnected fail at once instead of queueing; a command that gets no answer within
 * command_timeout breaks the connection, failing every command waiting on it.
 */
class redis_client {
public:
    redis_client(boost::asio::io_context& io, redis_options options, counter& command_errors);
    ~redis_client();
    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;

    /** Starts connecting. */
    void start();
    /** Disconnects and stops reconnecting. */
    void stop();

    boost::asio::awaitable<redis_reply> get(std::string_view key);
    boost::asio::awaitable<redis_reply> ping();

private:
    struct connection;
    struct pending_command;

    boost::asio::awaitable<redis_reply> run(std::string_view verb, std::string_view argument);
    void connect();
    void on_resolved(const boost::asio::ip::tcp::endpoint& endpoint);
    void on_connection_lost(std::string_view reason);
    void schedule_reconnect();
    void watch_for_stuck_commands();

    boost::asio::io_context& io_;
    redis_options options_;
    counter& command_errors_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer reconnect_timer_;
    boost::asio::steady_timer watchdog_timer_;
    std::shared_ptr<connection> connection_;
    /** The command being sent, in the wire protocol; reused (hiredis copies it). */
    std::string command_;
    std::chrono::milliseconds backoff_{100};
    /** The server's address from the last lookup; forgotten when connecting to it fails. */
    std::optional<boost::asio::ip::tcp::endpoint> address_;
    bool lookup_in_flight_ = false;
    /** Whether an attempt to connect (resolve, then connect) is under way, and since when. */
    bool attempt_pending_ = false;
    std::chrono::steady_clock::time_point attempt_started_;
    bool connected_ = false;
    bool reconnect_scheduled_ = false;
    bool stopping_ = false;
    bool outage_logged_ = false;
};

} // namespace meshdemo
