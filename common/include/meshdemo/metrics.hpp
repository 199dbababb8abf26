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

namespace meshdemo {

/** Label pairs of one series, e.g. {{"route", "/{id}"}}. Fixed when the series is made. */
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/** A monotonically increasing count. Lock-free; safe from any thread. */
class counter {
public:
    void add(std::uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

/** A latency histogram with fixed buckets in seconds. Lock-free; safe from any thread. */
class histogram {
public:
    static constexpr std::array<double, 14> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

    void observe(std::chrono::nanoseconds duration);
    void render(std::string& out, std::string_view name, std::string_view labels) const;

private:
    std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
    std::atomic<std::uint64_t> sum_nanoseconds_{0};
};

/**
 * Requests served, per route and status code, and their latency per route.
 * Routes are fixed at start-up; status codes are counted in a flat array, so recording a
 * request takes two relaxed atomic increments and no lock.
 */
class http_server_metrics {
public:
    http_server_metrics(std::string metric_prefix, std::vector<std::string> routes);

    /** Index of a route given at construction; the last route catches everything else. */
    std::size_t route_index(std::string_view route) const;
    void record(std::size_t route, unsigned status, std::chrono::nanoseconds duration);
    std::uint64_t count(std::string_view route, unsigned status) const;
    void render(std::string& out) const;

private:
    struct route_series {
        std::string route;
        std::array<std::atomic<std::uint64_t>, 500> by_status{}; // index: status - 100
        histogram latency;
    };

    std::string prefix_;
    std::deque<route_series> routes_;
};

/**
 * The metrics of one process, rendered in the Prometheus text format.
 * Series are registered at start-up (not thread-safe then); afterwards they are updated
 * lock-free from any thread, and a scrape only reads atomics: it never blocks a request.
 */
class metrics_registry {
public:
    counter& add_counter(const std::string& name, const std::string& help,
                         metric_labels labels = {});
    histogram& add_histogram(const std::string& name, const std::string& help,
                             metric_labels labels = {});
    /** A gauge that is always 1, carrying information in its labels (e.g. build_info). */
    void add_info(const std::string& name, const std::string& help, metric_labels labels);
    http_server_metrics& add_http_server(std::vector<std::string> routes);

    std::string render() const;

private:
    enum class kind { counter, histogram, info };
    struct series {
        metric_labels labels;
        std::unique_ptr<counter> count;
        std::unique_ptr<histogram> latency;
    };
    struct metric_family {
        std::string name;
        std::string help;
        kind type;
        std::vector<series> members;
    };

    metric_family& family_for(const std::string& name, const std::string& help, kind type);

    std::deque<metric_family> families_;
    std::unique_ptr<http_server_metrics> http_server_;
};

/** Renders labels as {a="x",b="y"} with Prometheus escaping; empty for no labels. */
std::string render_labels(const metric_labels& labels);

} // namespace meshdemo
