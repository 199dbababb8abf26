-- wrk script for bench/bench.py: counts answers that are not 2xx, and playlists answers that left
-- videos out (X-Videos-Omitted not 0), and prints one machine-readable line in done(), including
-- p99.9, which `wrk --latency` does not show.

-- Globals, not locals: done() reads each thread's copy with thread:get().
non2xx = 0
partial = 0

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
    end
    local omitted = headers["X-Videos-Omitted"] or headers["x-videos-omitted"]
    if omitted ~= nil and omitted ~= "0" then
        partial = partial + 1
    end
end

function done(summary, latency, requests)
    local bad, incomplete = 0, 0
    for _, thread in ipairs(threads) do
        bad = bad + (thread:get("non2xx") or 0)
        incomplete = incomplete + (thread:get("partial") or 0)
    end
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d seconds=%.3f rps=%.1f bytes=%d p50_us=%d p90_us=%d p99_us=%d " ..
        "p999_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d status=%d non2xx=%d " ..
        "partial=%d\n",
        summary.requests, seconds, summary.requests / seconds, summary.bytes,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.timeout, e.status,
        bad, incomplete))
end
