#include "meshdemo/host_addresses.hpp"

#include "meshdemo/async_event.hpp"

namespace meshdemo {

namespace asio = boost::asio;

/** Shared with the lookup in flight and with the callers waiting for it. */
struct host_addresses::lookup_state {
    lookup_state(const asio::any_io_executor& executor, std::string host_name,
                 std::uint16_t port_number)
        : resolver(executor), host(std::move(host_name)), port(std::to_string(port_number)),
          lookup_ended(executor) {}

    asio::ip::tcp::resolver resolver;
    std::string host;
    std::string port;
    asio::ip::tcp::resolver::results_type endpoints; ///< empty until a lookup succeeded
    boost::system::error_code last_error;
    bool in_flight = false;
    async_event lookup_ended;
};

host_addresses::host_addresses(const asio::any_io_executor& executor, std::string host,
                               std::uint16_t port)
    : state_(std::make_shared<lookup_state>(executor, std::move(host), port)) {}

// A lookup in flight holds the state until it ends; waiting callers hold it too.
host_addresses::~host_addresses() = default;

void host_addresses::forget() {
    state_->endpoints = {};
}

asio::awaitable<address_lookup>
host_addresses::get(std::chrono::steady_clock::time_point deadline) {
    const std::shared_ptr<lookup_state> state = state_;
    if (state->endpoints.empty() && !state->in_flight) {
        state->in_flight = true;
        state->resolver.async_resolve(
            state->host, state->port,
            [state](boost::system::error_code ec, asio::ip::tcp::resolver::results_type found) {
                state->in_flight = false;
                state->last_error = ec;
                if (!ec) {
                    state->endpoints = std::move(found);
                }
                state->lookup_ended.notify_all();
            });
    }
    if (state->in_flight && !co_await state->lookup_ended.wait_until(deadline)) {
        co_return address_lookup{{}, asio::error::timed_out};
    }
    if (!state->endpoints.empty()) {
        co_return address_lookup{state->endpoints, {}};
    }
    co_return address_lookup{{},
                             state->last_error ? state->last_error : asio::error::host_not_found};
}

} // namespace meshdemo
