#pragma once

#include "meshdemo/async_event.hpp"
#include "meshdemo/host_addresses.hpp"
#include "meshdemo/metrics.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
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
 * event loop. One coroutine keeps the connection: it looks the server up, connects within
 * command_timeout, watches the connection until it is lost, backs off and begins again, so a
 * Redis restart is survived without restarting the service. Commands issued while disconnected
 * fail at once instead of queueing; a command that gets no answer within command_timeout breaks
 * the connection, failing every command waiting on it.
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
    /** Empty when Redis answers a PING, otherwise why not: for readiness checks. */
    boost::asio::awaitable<std::string> unready_reason();

private:
    struct connection;
    struct pending_command;
    enum class link_state { down, connecting, up };

    boost::asio::awaitable<redis_reply> run(std::string_view verb, std::string_view argument);
    /** Connects, watches, backs off and connects again, until stop(). */
    boost::asio::awaitable<void> keep_connected();
    /** Empty once connected, otherwise why not. */
    boost::asio::awaitable<std::string> connect_once();
    /** Returns why the connection was lost: closed, or a command without reply in time. */
    boost::asio::awaitable<std::string> watch_until_lost();
    void open(const boost::asio::ip::tcp::endpoint& endpoint);
    /** Frees the hiredis context, failing the commands waiting on it. */
    void close();
    /** Called from hiredis's callbacks. */
    void set_state(link_state state, std::string_view reason = {});

    boost::asio::io_context& io_;
    redis_options options_;
    counter& command_errors_;
    host_addresses addresses_;
    /** Signalled on every change of state_, and by stop(). */
    async_event state_changed_;
    link_state state_ = link_state::down;
    std::string lost_reason_;
    std::shared_ptr<connection> connection_;
    /** The command being sent, in the wire protocol; reused (hiredis copies it). */
    std::string command_;
    bool running_ = false;
    bool stopping_ = false;
};

} // namespace meshdemo
