#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>

namespace meshdemo {

/**
 * The completion token our coroutines await operations with: errors come back as values (a
 * tuple whose first element is the error code), never as exceptions. Deferred rather than
 * asio::use_awaitable, which wraps every operation in a coroutine frame of its own: one
 * allocation and one resumption fewer on every read, write and wait of the request path.
 */
inline constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::deferred);

} // namespace meshdemo
