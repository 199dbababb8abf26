#include "meshdemo/metrics.hpp"

#include <cstdio>

namespace meshdemo {

namespace {

void append_number(std::string& out, double value) {
    char text[32];
    const int length = std::snprintf(text, sizeof text, "%.9g", value);
    out.append(text, static_cast<std::size_t>(length));
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

std::string with_label(std::string_view labels, std::string_view extra) {
    std::string out;
    if (labels.empty()) {
        out.push_back('{');
    } else {
        out.append(labels.substr(0, labels.size() - 1)).push_back(',');
    }
    out.append(extra).push_back('}');
    return out;
}

} // namespace

std::string render_labels(const metric_labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (const auto& [key, value] : labels) {
        if (out.size() > 1) {
            out.push_back(',');
        }
        out.append(key).append("=\"");
        for (const char c : value) {
            if (c == '\\' || c == '"') {
                out.push_back('\\');
                out.push_back(c);
            } else if (c == '\n') {
                out.append("\\n");
            } else {
                out.push_back(c);
            }
        }
        out.push_back('"');
    }
    out.push_back('}');
    return out;
}

void histogram::observe(std::chrono::nanoseconds duration) {
    const double seconds = std::chrono::duration<double>(duration).count();
    std::size_t bucket = 0;
    while (bucket < bounds.size() && seconds > bounds[bucket]) {
        ++bucket;
    }
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    const auto nanoseconds =
        duration.count() > 0 ? static_cast<std::uint64_t>(duration.count()) : 0;
    sum_nanoseconds_.fetch_add(nanoseconds, std::memory_order_relaxed);
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        std::string bound = "le=\"";
        if (i < bounds.size()) {
            append_number(bound, bounds[i]);
        } else {
            bound.append("+Inf");
        }
        bound.push_back('"');
        out.append(name).append("_bucket").append(with_label(labels, bound));
        out.append(" ").append(std::to_string(cumulative)).append("\n");
    }
    out.append(name).append("_sum").append(labels).append(" ");
    append_number(out, static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9);
    out.append("\n");
    out.append(name).append("_count").append(labels).append(" ");
    out.append(std::to_string(cumulative)).append("\n");
}

http_server_metrics::http_server_metrics(std::string metric_prefix, std::vector<std::string> routes)
    : prefix_(std::move(metric_prefix)) {
    for (auto& route : routes) {
        routes_.emplace_back().route = std::move(route);
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
        series.by_status[status - 100].fetch_add(1, std::memory_order_relaxed);
    }
    series.latency.observe(duration);
}

std::uint64_t http_server_metrics::count(std::string_view route, unsigned status) const {
    const auto& series = routes_[route_index(route)];
    return status >= 100 && status < 600 ? series.by_status[status - 100].load() : 0;
}

void http_server_metrics::render(std::string& out) const {
    const std::string requests = prefix_ + "_requests_total";
    append_header(out, requests, "HTTP requests served, by route and status code.", "counter");
    for (const auto& series : routes_) {
        for (unsigned status = 100; status < 600; ++status) {
            const auto value = series.by_status[status - 100].load(std::memory_order_relaxed);
            if (value != 0) {
                out.append(requests)
                    .append(render_labels(
                        {{"route", series.route}, {"status", std::to_string(status)}}))
                    .append(" ")
                    .append(std::to_string(value))
                    .append("\n");
            }
        }
    }
    const std::string duration = prefix_ + "_request_duration_seconds";
    append_header(out, duration, "Time to answer HTTP requests, by route.", "histogram");
    for (const auto& series : routes_) {
        series.latency.render(out, duration, render_labels({{"route", series.route}}));
    }
}

metrics_registry::metric_family& metrics_registry::family_for(const std::string& name,
                                                              const std::string& help, kind type) {
    for (auto& existing : families_) {
        if (existing.name == name) {
            return existing;
        }
    }
    return families_.emplace_back(metric_family{name, help, type, {}});
}

counter& metrics_registry::add_counter(const std::string& name, const std::string& help,
                                       metric_labels labels) {
    auto& members = family_for(name, help, kind::counter).members;
    members.push_back(series{std::move(labels), std::make_unique<counter>(), nullptr});
    return *members.back().count;
}

histogram& metrics_registry::add_histogram(const std::string& name, const std::string& help,
                                           metric_labels labels) {
    auto& members = family_for(name, help, kind::histogram).members;
    members.push_back(series{std::move(labels), nullptr, std::make_unique<histogram>()});
    return *members.back().latency;
}

void metrics_registry::add_info(const std::string& name, const std::string& help,
                                metric_labels labels) {
    family_for(name, help, kind::info)
        .members.push_back(series{std::move(labels), nullptr, nullptr});
}

http_server_metrics& metrics_registry::add_http_server(std::vector<std::string> routes) {
    http_server_ = std::make_unique<http_server_metrics>("http_server", std::move(routes));
    return *http_server_;
}

std::string metrics_registry::render() const {
    std::string out;
    out.reserve(16384);
    if (http_server_) {
        http_server_->render(out);
    }
    for (const auto& family : families_) {
        const char* type = family.type == kind::counter     ? "counter"
                           : family.type == kind::histogram ? "histogram"
                                                            : "gauge";
        append_header(out, family.name, family.help, type);
        for (const auto& member : family.members) {
            const std::string labels = render_labels(member.labels);
            if (member.latency) {
                member.latency->render(out, family.name, labels);
            } else {
                const std::uint64_t value = member.count ? member.count->value() : 1;
                out.append(family.name).append(labels).append(" ");
                out.append(std::to_string(value)).append("\n");
            }
        }
    }
    return out;
}

} // namespace meshdemo
