#include "meshdemo/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace meshdemo {

namespace {

prometheus::Labels to_labels(const metric_labels& labels) {
    return prometheus::Labels(labels.begin(), labels.end());
}

const prometheus::Histogram::BucketBoundaries& bucket_bounds() {
    static const prometheus::Histogram::BucketBoundaries bounds(histogram::bounds.begin(),
                                                                histogram::bounds.end());
    return bounds;
}

} // namespace

void counter::add(std::uint64_t amount) {
    impl_->Increment(static_cast<double>(amount));
}

std::uint64_t counter::value() const {
    return static_cast<std::uint64_t>(impl_->Value());
}

void histogram::observe(std::chrono::nanoseconds duration) {
    impl_->Observe(std::chrono::duration<double>(duration).count());
}

http_server_metrics::http_server_metrics(prometheus::Registry& registry,
                                         std::vector<std::string> routes)
    : requests_(&prometheus::BuildCounter()
                     .Name("http_server_requests_total")
                     .Help("HTTP requests served, by route and status code.")
                     .Register(registry)) {
    auto& latency = prometheus::BuildHistogram()
                        .Name("http_server_request_duration_seconds")
                        .Help("Time to answer HTTP requests, by route.")
                        .Register(registry);
    for (auto& route : routes) {
        auto& series = routes_.emplace_back();
        series.latency = &latency.Add({{"route", route}}, bucket_bounds());
        series.route = std::move(route);
    }
}

std::size_t http_server_metrics::route_index(std::string_view route) const {
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i].route == route) {
            return i;
        }
    }
    return routes_.size() - 1;
}

void http_server_metrics::record(std::size_t route, unsigned status,
                                 std::chrono::nanoseconds duration) {
    auto& series = routes_[route < routes_.size() ? route : routes_.size() - 1];
    if (status >= 100 && status < 600) {
        auto& slot = series.by_status[status - 100];
        auto* count = slot.load(std::memory_order_acquire);
        if (count == nullptr) {
            // Family::Add returns the existing series for the same labels, so a race is harmless.
            count = &requests_->Add({{"route", series.route}, {"status", std::to_string(status)}});
            slot.store(count, std::memory_order_release);
        }
        count->Increment();
    }
    histogram{*series.latency}.observe(duration);
}

std::uint64_t http_server_metrics::count(std::string_view route, unsigned status) const {
    const auto& series = routes_[route_index(route)];
    if (status < 100 || status >= 600) {
        return 0;
    }
    const auto* count = series.by_status[status - 100].load(std::memory_order_acquire);
    return count != nullptr ? static_cast<std::uint64_t>(count->Value()) : 0;
}

metrics_registry::metrics_registry() : registry_(std::make_unique<prometheus::Registry>()) {}

metrics_registry::~metrics_registry() = default;

counter& metrics_registry::add_counter(const std::string& name, const std::string& help,
                                       metric_labels labels) {
    auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
    return counters_.emplace_back(family.Add(to_labels(labels)));
}

histogram& metrics_registry::add_histogram(const std::string& name, const std::string& help,
                                           metric_labels labels) {
    auto& family = prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
    return histograms_.emplace_back(family.Add(to_labels(labels), bucket_bounds()));
}

void metrics_registry::add_info(const std::string& name, const std::string& help,
                                metric_labels labels) {
    prometheus::BuildGauge()
        .Name(name)
        .Help(help)
        .Register(*registry_)
        .Add(to_labels(labels))
        .Set(1);
}

http_server_metrics& metrics_registry::add_http_server(std::vector<std::string> routes) {
    http_server_ = std::make_unique<http_server_metrics>(*registry_, std::move(routes));
    return *http_server_;
}

std::string metrics_registry::render() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

} // namespace meshdemo
