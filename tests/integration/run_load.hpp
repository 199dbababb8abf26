#pragma once

#include "http_get.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace harness {

/** What a bounded load saw. */
struct load_result {
    std::size_t sent = 0;
    std::size_t failed = 0; ///< no HTTP answer at all
    std::map<unsigned, std::size_t> by_status;
    std::vector<std::string> errors;
};

/** Keep-alive connections hammering one target for a fixed time; inspect() sees every answer
 * (from several threads: it must be thread-safe). */
load_result run_load(std::uint16_t port, const std::string& target, std::size_t connections,
                     std::chrono::milliseconds duration,
                     const std::function<void(const answer&)>& inspect = {});

} // namespace harness
