#include "run_load.hpp"

#include "connection.hpp"

#include <mutex>
#include <thread>

namespace harness {

load_result run_load(std::uint16_t port, const std::string& target, std::size_t connections,
                     std::chrono::milliseconds duration,
                     const std::function<void(const answer&)>& inspect) {
    std::mutex mutex;
    load_result total;
    const auto deadline = std::chrono::steady_clock::now() + duration;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < connections; ++i) {
        threads.emplace_back([&] {
            connection client(port);
            load_result mine;
            while (std::chrono::steady_clock::now() < deadline) {
                const answer got = client.request(target, {}, http::verb::get, 5s);
                ++mine.sent;
                if (got.status == 0) {
                    ++mine.failed;
                    if (mine.errors.size() < 5) {
                        mine.errors.push_back(got.error);
                    }
                } else {
                    ++mine.by_status[got.status];
                }
                if (inspect) {
                    inspect(got);
                }
            }
            std::lock_guard lock(mutex);
            total.sent += mine.sent;
            total.failed += mine.failed;
            for (const auto& [status, count] : mine.by_status) {
                total.by_status[status] += count;
            }
            total.errors.insert(total.errors.end(), mine.errors.begin(), mine.errors.end());
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    return total;
}

} // namespace harness
