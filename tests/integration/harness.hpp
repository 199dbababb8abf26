#pragma once

// Real parts for integration tests: child processes, seeded redis-server instances, the service
// executables, an HTTP client, a recording test double and a bounded load generator. One header
// for the test files; each part lives in its own file pair.

#include "child_process.hpp"
#include "eventually.hpp"
#include "http_get.hpp"
#include "metric_value.hpp"
#include "recording_server.hpp"
#include "run_load.hpp"
#include "seeded_redis.hpp"
#include "service.hpp"
#include "temp_dir.hpp"
