#pragma once

#include "meshdemo/http_types.hpp"

#include <string>
#include <string_view>

namespace meshdemo {

/** Whether a header carries trace context that outbound calls must repeat (x-request-id,
 * traceparent, tracestate, b3, x-b3-*, x-ot-span-context, l5d-ctx-*). */
bool is_trace_header(std::string_view name);

/** A new request id: 32 random hex digits. */
std::string new_request_id();

/** Fills the request id and the headers to propagate from an inbound request. */
void read_trace_context(const http_request& request, request_context& context);

} // namespace meshdemo
