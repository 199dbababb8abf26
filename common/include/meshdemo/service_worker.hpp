#pragma once

#include "meshdemo/http_types.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace meshdemo {

/**
 * Represents what one worker thread of a service holds: its clients and its handler, made for
 * that thread's io_context and used by nothing else, so nothing in it needs a lock. Its members
 * are destroyed in reverse order of declaration, after every coroutine that used them.
 */
class service_worker {
public:
    virtual ~service_worker() = default;

    /** Answers the requests of the service's main port, on this worker's thread. */
    const request_handler& handler() const { return handler_; }
    /** Empty when the service can serve, otherwise why not; /readyz asks the first worker. */
    virtual boost::asio::awaitable<std::string> unready_reason() { co_return std::string{}; }
    /** Closes what the worker keeps open (a Redis connection) when the service stops. */
    virtual void stop() {}

protected:
    /** Called by the derived worker's constructor: handler (a member, so it lives as long as
     * the worker) answers the main port's requests. */
    template <typename Handler> void answer_with(Handler& handler) {
        handler_ = [&handler](const http_request& request, request_context& context) {
            return handler(request, context);
        };
    }

private:
    request_handler handler_;
};

/** Makes the worker for one worker thread: its io_context and its number (0, 1, ...). */
using worker_factory =
    std::function<std::unique_ptr<service_worker>(boost::asio::io_context& io, std::size_t index)>;

} // namespace meshdemo
