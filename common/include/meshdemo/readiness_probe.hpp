#pragma once

#include <cstdint>
#include <string>

namespace meshdemo {

/**
 * The service's own health check, for images without a shell or curl (`videos-api --probe`):
 * asks the admin port's /readyz on this host and says whether it answered 200 within two seconds
 * (connect, send and answer together); says on stderr why not. Runs its own event loop, in a
 * process of its own.
 */
bool probe_readiness(const std::string& bind_address, std::uint16_t admin_port);

} // namespace meshdemo
