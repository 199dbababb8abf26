#pragma once

#include "meshdemo/settings.hpp"

#include <chrono>
#include <cstdint>
#include <random>

namespace meshdemo {

/** How injected failures look to the caller. */
enum class failure_mode {
    status, ///< an HTTP error answer (FLAKY_STATUS, 500 by default)
    drop,   ///< the connection closed with no answer, as the original Go service's panic did
};

/** Faults to inject, all off by default: FLAKY, FLAKY_RATE, FLAKY_STATUS, FLAKY_MODE,
 * LATENCY_MS, LATENCY_JITTER_MS. */
struct fault_settings {
    bool flaky = false;
    double failure_rate = 1.0 / 3.0; // the original failed when rand(90) < 30
    unsigned failure_status = 500;
    failure_mode mode = failure_mode::status;
    std::chrono::milliseconds latency{0};
    std::chrono::milliseconds latency_jitter{0};
};

fault_settings read_fault_settings(const settings_reader& reader);

/** What to do to one request. */
struct fault_decision {
    bool fail = false;
    std::chrono::milliseconds delay{0};
};

/** Decides, request by request, whether to fail and how long to wait first. One per thread:
 * it owns its random source, seeded by the caller so that tests can replay decisions. */
class fault_injector {
public:
    fault_injector(fault_settings settings, std::uint64_t seed);

    fault_decision next();
    const fault_settings& settings() const { return settings_; }

private:
    fault_settings settings_;
    std::mt19937_64 random_;
};

} // namespace meshdemo
