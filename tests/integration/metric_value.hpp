#pragma once

#include <string>

namespace harness {

/** The value of one sample in Prometheus text, e.g. metric_value(text,
 * "http_server_requests_total{route=\"/\",status=\"200\"}"); 0 when absent. */
double metric_value(const std::string& metrics, const std::string& series);

} // namespace harness
