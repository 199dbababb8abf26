// Per-answer metric work of the playlists scenario, as both services do it: per answer,
// playlists-api records 1 server request and 9 client calls (counter + histogram each) and one
// omitted add; videos-api records 9 server requests. THREADS threads share the series, as workers do.
#include "meshdemo/metrics.hpp"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
using namespace meshdemo;
int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    const long answers = argc > 2 ? std::atol(argv[2]) : 2000000;
    metrics_registry registry;
    auto& server = registry.add_http_server({"/", "other"});
    counter* calls[6];
    const char* outcomes[] = {"ok", "4xx", "5xx", "timeout", "connection_error", "invalid"};
    for (int i = 0; i < 6; ++i)
        calls[i] = &registry.add_counter("http_client_requests_total", "Calls.", {{"peer", "videos-api"}, {"outcome", outcomes[i]}});
    auto& call_duration = registry.add_histogram("http_client_request_duration_seconds", "T.", {{"peer", "videos-api"}});
    auto& omitted = registry.add_counter("playlists_videos_omitted_total", "O.");
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (long i = 0; i < answers / threads; ++i) {
                for (int v = 0; v < 9; ++v) {
                    calls[0]->add();
                    call_duration.observe(std::chrono::microseconds(700 + v * 13 + t));
                    server.record(0, 200, std::chrono::microseconds(90 + v)); // videos-api's share
                }
                omitted.add(0);
                server.record(0, 200, std::chrono::milliseconds(3));
            }
        });
    }
    for (auto& th : pool) th.join();
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    std::printf("threads %d: %.0f ns per answer (wall), %zu bytes exposition\n", threads, ns / static_cast<double>(answers) * threads, registry.render().size());
}
