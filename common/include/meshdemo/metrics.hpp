#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T> class Family;
} // namespace prometheus

namespace meshdemo {

/** Label pairs of one series, e.g. {{"route", "/{id}"}}. Fixed when the series is made. */
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/** A monotonically increasing count: a prometheus-cpp Counter. Safe from any thread. */
class counter {
public:
    explicit counter(prometheus::Counter& impl) : impl_(&impl) {}
    void add(std::uint64_t amount = 1);
    std::uint64_t value() const;

private:
    prometheus::Counter* impl_;
};

/** A latency histogram with fixed buckets in seconds: a prometheus-cpp Histogram. */
class histogram {
public:
    static constexpr std::array<double, 14> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

    explicit histogram(prometheus::Histogram& impl) : impl_(&impl) {}
    void observe(std::chrono::nanoseconds duration);

private:
    prometheus::Histogram* impl_;
};

/**
 * Requests served, per route and status code, and their latency per route.
 * Routes are fixed at start-up; a status code's series is added to the family the first time it
 * is seen (prometheus-cpp's Family::Add takes a lock), then reused through a pointer.
 */
class http_server_metrics {
public:
    http_server_metrics(prometheus::Registry& registry, std::vector<std::string> routes);

    /** Index of a route given at construction; the last route catches everything else. */
    std::size_t route_index(std::string_view route) const;
    void record(std::size_t route, unsigned status, std::chrono::nanoseconds duration);
    std::uint64_t count(std::string_view route, unsigned status) const;

private:
    struct route_series {
        std::string route;
        std::array<std::atomic<prometheus::Counter*>, 500> by_status{}; // index: status - 100
        prometheus::Histogram* latency = nullptr;
    };

    prometheus::Family<prometheus::Counter>* requests_;
    std::deque<route_series> routes_;
};

/**
 * The metrics of one process, kept in a prometheus-cpp Registry and rendered by its text
 * serializer. Series are registered at start-up; afterwards they are updated from any thread.
 */
class metrics_registry {
public:
    metrics_registry();
    ~metrics_registry();

    counter& add_counter(const std::string& name, const std::string& help,
                         metric_labels labels = {});
    histogram& add_histogram(const std::string& name, const std::string& help,
                             metric_labels labels = {});
    /** A gauge that is always 1, carrying information in its labels (e.g. build_info). */
    void add_info(const std::string& name, const std::string& help, metric_labels labels);
    http_server_metrics& add_http_server(std::vector<std::string> routes);

    std::string render() const;

private:
    std::unique_ptr<prometheus::Registry> registry_;
    std::deque<counter> counters_;
    std::deque<histogram> histograms_;
    std::unique_ptr<http_server_metrics> http_server_;
};

} // namespace meshdemo
