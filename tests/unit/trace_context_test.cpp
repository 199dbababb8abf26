#include "meshdemo/trace_context.hpp"

#include <gtest/gtest.h>

using namespace meshdemo;

TEST(TraceContext, KnowsTheTraceHeaders) {
    for (const char* name : {"x-request-id", "traceparent", "tracestate", "b3", "X-B3-TraceId",
                             "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
                             "x-ot-span-context", "l5d-ctx-trace", "L5D-CTX-deadline"}) {
        EXPECT_TRUE(is_trace_header(name)) << name;
    }
    for (const char* name :
         {"host", "cookie", "authorization", "x-b3", "l5d-dst-override", "b33"}) {
        EXPECT_FALSE(is_trace_header(name)) << name;
    }
}

TEST(TraceContext, PropagatesInboundHeadersAndKeepsTheRequestId) {
    http_request request{http::verb::get, "/", 11};
    request.set("x-request-id", "abc");
    request.set("traceparent", "00-1-2-01");
    request.set("l5d-ctx-trace", "t");
    request.set("cookie", "secret");
    request_context context;
    read_trace_context(request, context);
    EXPECT_EQ(context.request_id, "abc");
    const header_list expected{
        {"traceparent", "00-1-2-01"}, {"l5d-ctx-trace", "t"}, {"x-request-id", "abc"}};
    EXPECT_EQ(context.propagated_headers, expected);
}

TEST(TraceContext, MakesARequestIdWhenThereIsNone) {
    http_request request{http::verb::get, "/", 11};
    request_context first;
    request_context second;
    read_trace_context(request, first);
    read_trace_context(request, second);
    EXPECT_EQ(first.request_id.size(), 32u);
    EXPECT_NE(first.request_id, second.request_id);
    EXPECT_EQ(first.propagated_headers.back().second, first.request_id);
}
