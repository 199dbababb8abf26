#include "meshdemo/fault_injector.hpp"

namespace meshdemo {

fault_settings read_fault_settings(const settings_reader& reader) {
    fault_settings settings;
    settings.flaky = reader.boolean("FLAKY", false);
    settings.failure_rate = reader.number("FLAKY_RATE", settings.failure_rate, 0.0, 1.0);
    settings.failure_status = static_cast<unsigned>(reader.integer("FLAKY_STATUS", 500, 400, 599));
    settings.mode = reader.one_of("FLAKY_MODE", "status", {"status", "drop"}) == "drop"
                        ? failure_mode::drop
                        : failure_mode::status;
    settings.latency = reader.milliseconds("LATENCY_MS", 0, 0, 60000);
    settings.latency_jitter = reader.milliseconds("LATENCY_JITTER_MS", 0, 0, 60000);
    return settings;
}

fault_injector::fault_injector(fault_settings settings, std::uint64_t seed)
    : settings_(settings), random_(seed) {}

fault_decision fault_injector::next() {
    fault_decision decision;
    decision.delay = settings_.latency;
    if (settings_.latency_jitter.count() > 0) {
        std::uniform_int_distribution<std::int64_t> jitter(0, settings_.latency_jitter.count());
        decision.delay += std::chrono::milliseconds(jitter(random_));
    }
    if (settings_.flaky) {
        decision.fail =
            std::uniform_real_distribution<double>(0.0, 1.0)(random_) < settings_.failure_rate;
    }
    return decision;
}

} // namespace meshdemo
