#include "meshdemo/redis_client.hpp"

#include "meshdemo/logging.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
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
    : io_(io), options_(std::move(options)), command_errors_(command_errors), resolver_(io),
      reconnect_timer_(io), watchdog_timer_(io) {}

redis_client::~redis_client() {
    stop();
}

void redis_client::start() {
    stopping_ = false;
    connect();
    watch_for_stuck_commands();
}

void redis_client::stop() {
    stopping_ = true;
    reconnect_timer_.cancel();
    watchdog_timer_.cancel();
    resolver_.cancel();
    if (connection_ && connection_->context != nullptr) {
        redisAsyncFree(connection_->context); // fails pending commands, then cleans up
    }
    connection_.reset();
    connected_ = false;
}

void redis_client::connect() {
    reconnect_scheduled_ = false;
    attempt_pending_ = true;
    attempt_started_ = steady_clock::now();
    if (address_) {
        on_resolved(*address_);
        return;
    }
    if (lookup_in_flight_) {
        return; // the lookup an earlier attempt began goes on with this one when it ends
    }
    // hiredis would resolve the name with a blocking getaddrinfo: resolve with Asio instead.
    // One lookup at a time, kept after the attempt that began it gave up: Asio runs lookups one
    // after another, so a new one per attempt would queue behind a slow name server for ever.
    lookup_in_flight_ = true;
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [this](boost::system::error_code ec, asio::ip::tcp::resolver::results_type results) {
            lookup_in_flight_ = false;
            if (stopping_) {
                return;
            }
            if (!ec && !results.empty()) {
                address_ = results.begin()->endpoint();
            }
            if (!attempt_pending_ || connection_) {
                return; // no attempt waits for this lookup: the next one will use its address
            }
            if (!address_) {
                on_connection_lost("cannot resolve " + options_.host + ": " +
                                   (ec ? ec.message() : "no address"));
                return;
            }
            on_resolved(*address_);
        });
}

void redis_client::on_resolved(const asio::ip::tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    redisAsyncContext* context = redisAsyncConnect(address.c_str(), endpoint.port());
    if (context == nullptr || context->err != 0) {
        const std::string reason = context != nullptr ? context->errstr : "out of memory";
        if (context != nullptr) {
            redisAsyncFree(context);
        }
        on_connection_lost(reason);
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
    redisAsyncSetConnectCallback(context, [](const redisAsyncContext* ctx, int status) {
        auto* self = connection::of(ctx->data);
        if (status != REDIS_OK) {
            self->owner.address_.reset(); // the server may have moved: look it up again
            self->owner.on_connection_lost(ctx->errstr);
            return;
        }
        auto& owner = self->owner;
        owner.attempt_pending_ = false;
        owner.connected_ = true;
        owner.backoff_ = std::chrono::milliseconds(100);
        log_line("redis connected")
            .add("host", owner.options_.host)
            .add("port", std::int64_t{owner.options_.port})
            .write(owner.outage_logged_ ? spdlog::level::info : spdlog::level::debug);
        owner.outage_logged_ = false;
    });
    redisAsyncSetDisconnectCallback(context, [](const redisAsyncContext* ctx, int) {
        connection::of(ctx->data)->owner.on_connection_lost(
            ctx->errstr[0] != '\0' ? ctx->errstr : "connection closed");
    });
    connection_ = std::move(link);
}

void redis_client::on_connection_lost(std::string_view reason) {
    connected_ = false;
    attempt_pending_ = false;
    if (!outage_logged_ && !stopping_) {
        outage_logged_ = true;
        log_line("redis unavailable")
            .add("host", options_.host)
            .add("port", std::int64_t{options_.port})
            .add("reason", reason)
            .write(spdlog::level::warn);
    }
    schedule_reconnect();
}

void redis_client::schedule_reconnect() {
    if (stopping_ || reconnect_scheduled_) {
        return;
    }
    reconnect_scheduled_ = true;
    reconnect_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
    reconnect_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !stopping_) {
            connection_.reset();
            connect();
        }
    });
}

void redis_client::watch_for_stuck_commands() {
    watchdog_timer_.expires_after(options_.command_timeout / 4);
    watchdog_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || stopping_) {
            return;
        }
        // hiredis has no connect timeout: a peer that drops SYNs would keep us "connecting"
        // for the kernel's two minutes.
        if (attempt_pending_ && steady_clock::now() - attempt_started_ > options_.command_timeout) {
            const auto link = std::move(connection_);
            if (link) {
                address_.reset(); // connecting timed out: the server may have moved
            }
            on_connection_lost("not connected within the timeout (REDIS_TIMEOUT_MS)");
            if (link && link->context != nullptr) {
                redisAsyncFree(link->context); // not connected yet: no disconnect callback
            }
        } else if (connection_ && connection_->context != nullptr &&
                   !connection_->sent_at.empty() &&
                   steady_clock::now() - connection_->sent_at.front() > options_.command_timeout) {
            on_connection_lost("no reply within the command timeout");
            redisAsyncFree(connection_->context); // fails what waits on this connection
        }
        watch_for_stuck_commands();
    });
}

asio::awaitable<redis_reply> redis_client::get(std::string_view key) {
    return run("GET", key);
}

asio::awaitable<redis_reply> redis_client::ping() {
    return run("PING", {});
}

asio::awaitable<redis_reply> redis_client::run(std::string_view verb, std::string_view argument) {
    if (!connected_ || !connection_ || connection_->context == nullptr) {
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
