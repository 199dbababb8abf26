#include "meshdemo/redis_client.hpp"

#include "meshdemo/logging.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <charconv>
#include <deque>
#include <initializer_list>
#include <iterator>

namespace meshdemo {

namespace asio = boost::asio;
using steady_clock = std::chrono::steady_clock;

/** One hiredis context and the Asio watch on its socket. hiredis owns the socket: it is
 * released, never closed, by us. Kept alive by the waits in flight on it. */
struct redis_client::connection : std::enable_shared_from_this<connection> {
    connection(redis_client& client, redisAsyncContext* hiredis_context)
        : owner(client), context(hiredis_context), socket(client.io_) {}

    /** The connection behind hiredis's user-data pointer. */
    static connection* of(void* data) { return static_cast<connection*>(data); }

    /** One direction of the socket: whether hiredis wants it watched, and whether a wait on it
     * is in flight. */
    struct direction {
        bool wanted = false;
        bool waiting = false;
    };

    void watch_read() {
        watch(&connection::reading, asio::posix::stream_descriptor::wait_read,
              redisAsyncHandleRead);
    }

    void watch_write() {
        watch(&connection::writing, asio::posix::stream_descriptor::wait_write,
              redisAsyncHandleWrite);
    }

    /** Waits until the socket is ready in one direction, lets hiredis handle it, and goes on
     * watching for as long as hiredis wants it. */
    void watch(direction connection::*side, asio::posix::stream_descriptor::wait_type type,
               void (*handle)(redisAsyncContext*)) {
        direction& state = this->*side;
        if (state.waiting || context == nullptr || !state.wanted) {
            return;
        }
        state.waiting = true;
        socket.async_wait(
            type, [self = shared_from_this(), side, type, handle](boost::system::error_code ec) {
                ((*self).*side).waiting = false;
                if (ec || self->context == nullptr) {
                    return;
                }
                handle(self->context); // may free the context
                self->watch(side, type, handle);
            });
    }

    /** hiredis is freeing the context: let go of its socket. */
    void forget_context() {
        context = nullptr;
        reading.wanted = writing.wanted = false;
        if (socket.is_open()) {
            socket.release();
        }
    }

    redis_client& owner;
    redisAsyncContext* context;
    asio::posix::stream_descriptor socket;
    std::deque<steady_clock::time_point> sent_at;
    direction reading;
    direction writing;
};

/** A command waiting for its reply; owned by hiredis until its callback runs. */
struct redis_client::pending_command {
    asio::any_completion_handler<void(redis_reply)> handler;
    std::shared_ptr<connection> on;
};

namespace {

redis_reply to_reply(const redisReply* reply, const redisAsyncContext* context) {
    if (reply == nullptr) {
        const char* reason =
            context != nullptr && context->errstr[0] != '\0' ? context->errstr : "connection lost";
        return redis_reply::error(std::string("redis: ") + reason);
    }
    switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return {redis_reply::kind::value, std::string(reply->str, reply->len)};
    case REDIS_REPLY_NIL:
        return {redis_reply::kind::nil, {}};
    case REDIS_REPLY_ERROR:
        return redis_reply::error(std::string("redis: ") + std::string(reply->str, reply->len));
    default:
        return redis_reply::error("redis: unexpected reply type");
    }
}

/** A command as Redis's wire protocol (RESP) has it: an array of bulk strings. Written here
 * because hiredis's printf-style formatter cost more than the rest of a GET. */
void format_command(std::string& out, std::initializer_list<std::string_view> parts) {
    const auto append_number = [&out](std::size_t number) {
        char digits[20];
        const auto end = std::to_chars(std::begin(digits), std::end(digits), number).ptr;
        out.append(digits, end);
    };
    out.clear();
    out.push_back('*');
    append_number(parts.size());
    out.append("\r\n");
    for (const std::string_view part : parts) {
        out.push_back('$');
        append_number(part.size());
        out.append("\r\n").append(part).append("\r\n");
    }
}

} // namespace

redis_client::redis_client(asio::io_context& io, redis_options options, counter& command_errors)
    : io_(io), options_(std::move(options)), command_errors_(command_errors),
      addresses_(io.get_executor(), options_.host, options_.port),
      state_changed_(io.get_executor()) {}

redis_client::~redis_client() {
    stop();
}

void redis_client::start() {
    if (running_) {
        return;
    }
    running_ = true;
    stopping_ = false;
    asio::co_spawn(io_, keep_connected(), asio::detached);
}

void redis_client::stop() {
    stopping_ = true;
    close();
    state_changed_.notify_all();
}

asio::awaitable<void> redis_client::keep_connected() {
    std::chrono::milliseconds backoff{100};
    bool outage_logged = false;
    while (!stopping_) {
        std::string problem = co_await connect_once();
        if (problem.empty()) {
            log_line("redis connected")
                .add("host", options_.host)
                .add("port", std::int64_t{options_.port})
                .write(outage_logged ? spdlog::level::info : spdlog::level::debug);
            outage_logged = false;
            backoff = std::chrono::milliseconds(100);
            problem = co_await watch_until_lost();
        }
        close();
        if (stopping_) {
            break;
        }
        if (!outage_logged) {
            outage_logged = true;
            log_line("redis unavailable")
                .add("host", options_.host)
                .add("port", std::int64_t{options_.port})
                .add("reason", problem)
                .write(spdlog::level::warn);
        }
        co_await state_changed_.wait_until(steady_clock::now() + backoff); // or stop()
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    running_ = false;
}

asio::awaitable<std::string> redis_client::connect_once() {
    // hiredis has no connect timeout: a peer that drops SYNs would keep us "connecting" for the
    // kernel's two minutes. The deadline covers the lookup too.
    const auto deadline = steady_clock::now() + options_.command_timeout;
    const std::string timed_out = "not connected within the timeout (REDIS_TIMEOUT_MS)";
    // hiredis would resolve the name with a blocking getaddrinfo: resolve with Asio instead.
    const address_lookup found = co_await addresses_.get(deadline);
    if (found.error == asio::error::timed_out) {
        co_return timed_out;
    }
    if (found.error) {
        co_return "cannot resolve " + options_.host + ": " + found.error.message();
    }
    if (stopping_) {
        co_return "stopped";
    }
    open(found.endpoints.begin()->endpoint());
    while (state_ == link_state::connecting && !stopping_) {
        if (!co_await state_changed_.wait_until(deadline) && state_ == link_state::connecting) {
            addresses_.forget(); // the server may have moved
            co_return timed_out;
        }
    }
    if (state_ == link_state::up) {
        co_return std::string{};
    }
    addresses_.forget();
    co_return lost_reason_;
}

asio::awaitable<std::string> redis_client::watch_until_lost() {
    for (;;) {
        co_await state_changed_.wait_until(steady_clock::now() + options_.command_timeout / 4);
        if (state_ != link_state::up || stopping_) {
            co_return lost_reason_;
        }
        const auto& sent_at = connection_->sent_at;
        if (!sent_at.empty() && steady_clock::now() - sent_at.front() > options_.command_timeout) {
            co_return "no reply within the command timeout";
        }
    }
}

void redis_client::set_state(link_state state, std::string_view reason) {
    state_ = state;
    if (state == link_state::down) {
        lost_reason_ = reason;
    }
    state_changed_.notify_all();
}

void redis_client::open(const asio::ip::tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    redisAsyncContext* context = redisAsyncConnect(address.c_str(), endpoint.port());
    if (context == nullptr || context->err != 0) {
        const std::string reason = context != nullptr ? context->errstr : "out of memory";
        if (context != nullptr) {
            redisAsyncFree(context);
        }
        set_state(link_state::down, reason);
        return;
    }
    auto link = std::make_shared<connection>(*this, context);
    link->socket.assign(context->c.fd);
    context->data = link.get();
    // The event hooks go in before the connect callback, which already asks for a write event.
    context->ev.data = link.get();
    context->ev.addRead = [](void* data) {
        connection::of(data)->reading.wanted = true;
        connection::of(data)->watch_read();
    };
    context->ev.delRead = [](void* data) {
        connection::of(data)->reading.wanted = false;
    };
    context->ev.addWrite = [](void* data) {
        connection::of(data)->writing.wanted = true;
        connection::of(data)->watch_write();
    };
    context->ev.delWrite = [](void* data) {
        connection::of(data)->writing.wanted = false;
    };
    context->ev.cleanup = [](void* data) {
        connection::of(data)->forget_context();
    };
    state_ = link_state::connecting;
    connection_ = std::move(link);
    redisAsyncSetConnectCallback(context, [](const redisAsyncContext* ctx, int status) {
        auto& owner = connection::of(ctx->data)->owner;
        if (status == REDIS_OK) {
            owner.set_state(link_state::up);
        } else {
            owner.set_state(link_state::down, ctx->errstr);
        }
    });
    redisAsyncSetDisconnectCallback(context, [](const redisAsyncContext* ctx, int) {
        connection::of(ctx->data)->owner.set_state(
            link_state::down, ctx->errstr[0] != '\0' ? ctx->errstr : "connection closed");
    });
}

void redis_client::close() {
    const auto link = std::move(connection_);
    if (link && link->context != nullptr) {
        redisAsyncFree(link->context); // fails the commands waiting on it, then cleans up
    }
    state_ = link_state::down;
}

asio::awaitable<redis_reply> redis_client::get(std::string_view key) {
    return run("GET", key);
}

asio::awaitable<redis_reply> redis_client::ping() {
    return run("PING", {});
}

asio::awaitable<std::string> redis_client::unready_reason() {
    const redis_reply pong = co_await ping();
    co_return pong.type == redis_reply::kind::value ? std::string{} : pong.text;
}

asio::awaitable<redis_reply> redis_client::run(std::string_view verb, std::string_view argument) {
    if (state_ != link_state::up || !connection_ || connection_->context == nullptr) {
        command_errors_.add();
        co_return redis_reply::error("redis: not connected to " + options_.host + ":" +
                                     std::to_string(options_.port));
    }
    auto reply = co_await asio::async_initiate<decltype(asio::deferred), void(redis_reply)>(
        [this, verb, argument](auto handler) {
            auto* pending = new pending_command{std::move(handler), connection_};
            if (argument.empty() && verb == "PING") {
                format_command(command_, {verb});
            } else {
                format_command(command_, {verb, argument});
            }
            const int status = redisAsyncFormattedCommand(
                connection_->context,
                [](redisAsyncContext* context, void* raw_reply, void* data) {
                    auto* command = static_cast<pending_command*>(data);
                    auto& link = *command->on;
                    if (!link.sent_at.empty()) {
                        link.sent_at.pop_front();
                    }
                    // hiredis frees the reply after this callback: copy what we need now.
                    redis_reply result = to_reply(static_cast<redisReply*>(raw_reply), context);
                    auto done = std::move(command->handler);
                    asio::io_context& io = link.owner.io_;
                    delete command;
                    asio::post(io, asio::append(std::move(done), std::move(result)));
                },
                pending, command_.data(), command_.size());
            if (status != REDIS_OK) {
                auto done = std::move(pending->handler);
                delete pending;
                asio::post(io_, asio::append(std::move(done),
                                             redis_reply::error("redis: command not sent")));
                return;
            }
            connection_->sent_at.push_back(steady_clock::now());
        },
        asio::deferred);
    if (reply.type == redis_reply::kind::error) {
        command_errors_.add();
    }
    co_return reply;
}

} // namespace meshdemo
