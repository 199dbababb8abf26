#include "meshdemo/fault_injector.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace meshdemo;

namespace {

double failure_share(fault_settings settings, std::uint64_t seed, int draws) {
    fault_injector faults(settings, seed);
    int failures = 0;
    for (int i = 0; i < draws; ++i) {
        failures += faults.next().fail ? 1 : 0;
    }
    return static_cast<double>(failures) / draws;
}

} // namespace

TEST(FaultInjector, OffByDefault) {
    EXPECT_EQ(failure_share(fault_settings{}, 1, 10000), 0.0);
}

TEST(FaultInjector, FlakyFailsAboutOneInThree) {
    fault_settings flaky;
    flaky.flaky = true;
    const double share = failure_share(flaky, 42, 30000);
    EXPECT_NEAR(share, 1.0 / 3.0, 0.02);
}

TEST(FaultInjector, RateIsHonouredAtTheEnds) {
    fault_settings always;
    always.flaky = true;
    always.failure_rate = 1.0;
    EXPECT_EQ(failure_share(always, 7, 1000), 1.0);
    always.failure_rate = 0.0;
    EXPECT_EQ(failure_share(always, 7, 1000), 0.0);
}

TEST(FaultInjector, SameSeedSameDecisions) {
    fault_settings flaky;
    flaky.flaky = true;
    flaky.latency_jitter = std::chrono::milliseconds(50);
    fault_injector first(flaky, 99);
    fault_injector second(flaky, 99);
    for (int i = 0; i < 100; ++i) {
        const auto a = first.next();
        const auto b = second.next();
        EXPECT_EQ(a.fail, b.fail);
        EXPECT_EQ(a.delay, b.delay);
    }
}

TEST(FaultInjector, LatencyIsFixedPlusBoundedJitter) {
    fault_settings slow;
    slow.latency = std::chrono::milliseconds(100);
    slow.latency_jitter = std::chrono::milliseconds(20);
    fault_injector faults(slow, 3);
    for (int i = 0; i < 1000; ++i) {
        const auto delay = faults.next().delay;
        EXPECT_GE(delay.count(), 100);
        EXPECT_LE(delay.count(), 120);
    }
}

TEST(FaultInjector, SettingsAreValidated) {
    auto lookup = [](std::map<std::string, std::string> values) {
        return settings_reader([values](std::string_view name) -> std::optional<std::string> {
            auto found = values.find(std::string(name));
            return found == values.end() ? std::nullopt : std::optional(found->second);
        });
    };
    const auto read = read_fault_settings(lookup({{"FLAKY", "true"},
                                                  {"FLAKY_STATUS", "503"},
                                                  {"FLAKY_MODE", "drop"},
                                                  {"LATENCY_MS", "250"}}));
    EXPECT_TRUE(read.flaky);
    EXPECT_EQ(read.failure_status, 503u);
    EXPECT_EQ(read.mode, failure_mode::drop);
    EXPECT_EQ(read.latency.count(), 250);
    EXPECT_THROW(read_fault_settings(lookup({{"FLAKY_STATUS", "200"}})), settings_error);
    EXPECT_THROW(read_fault_settings(lookup({{"FLAKY_MODE", "explode"}})), settings_error);
    EXPECT_THROW(read_fault_settings(lookup({{"LATENCY_MS", "-5"}})), settings_error);
}
