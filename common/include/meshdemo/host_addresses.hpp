#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace meshdemo {

/** The outcome of asking for a host's addresses: some, or why there are none (timed_out when
 * the caller's deadline came before the name server's answer). */
struct address_lookup {
    boost::asio::ip::tcp::resolver::results_type endpoints;
    boost::system::error_code error;
};

/**
 * Represents the addresses of one peer (host and port), for one single-threaded executor:
 * looked up once and kept, shared by every caller, looked up again after forget().
 *
 * One lookup at a time, however many callers wait: Asio runs an io_context's lookups one after
 * another on one thread, so a lookup per caller would queue them all behind a slow name server.
 * A lookup goes on after the callers that began it gave up, and may outlive this object.
 */
class host_addresses {
public:
    host_addresses(const boost::asio::any_io_executor& executor, std::string host,
                   std::uint16_t port);
    ~host_addresses();
    host_addresses(const host_addresses&) = delete;
    host_addresses& operator=(const host_addresses&) = delete;

    /** The addresses, from what was kept or from the lookup in flight (begun now if none is),
     * or an error; waits no later than deadline. */
    boost::asio::awaitable<address_lookup> get(std::chrono::steady_clock::time_point deadline);
    /** Forgets the addresses kept, for when connecting failed: the peer may have moved. */
    void forget();

private:
    struct lookup_state;
    std::shared_ptr<lookup_state> state_;
};

} // namespace meshdemo
