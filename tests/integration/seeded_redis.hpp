#pragma once

#include "child_process.hpp"
#include "temp_dir.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace harness {

/** redis-server seeded with one database's section of deploy/seed/seed.redis, on a free port. */
class seeded_redis {
public:
    explicit seeded_redis(std::string database);
    ~seeded_redis();
    std::uint16_t port() const { return port_; }
    void start();
    void stop();
    /** Runs redis-cli against this server and returns its output. */
    std::string cli(const std::string& arguments) const;

private:
    std::string database_;
    std::uint16_t port_;
    temp_dir run_dir_; ///< removed after redis stopped, also when starting failed
    std::unique_ptr<child_process> process_;
};

} // namespace harness
