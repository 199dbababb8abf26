#include "seeded_redis.hpp"

#include "eventually.hpp"
#include "service.hpp"
#include "temp_dir.hpp"

#include <cstdio>
#include <stdexcept>

namespace harness {

seeded_redis::seeded_redis(std::string database)
    : database_(std::move(database)), port_(free_port()), run_dir_("redis-" + database_) {
    start();
}

// redis goes first (declared last), then its folder.
seeded_redis::~seeded_redis() = default;

void seeded_redis::start() {
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{"/bin/sh", source_dir() + "/deploy/seed/redis-seeded.sh",
                                 database_, std::to_string(port_)},
        env_map{{"RUN_DIR", run_dir_.path()}}, run_dir_.path() + "/redis.log");
    const bool up = eventually([&] { return cli("ping").find("PONG") != std::string::npos; }, 10s);
    if (!up) {
        throw std::runtime_error("redis for " + database_ + " did not start: " + process_->log());
    }
}

void seeded_redis::stop() {
    process_.reset();
}

std::string seeded_redis::cli(const std::string& arguments) const {
    const std::string command =
        "redis-cli -h 127.0.0.1 -p " + std::to_string(port_) + " " + arguments + " 2>&1";
    std::string output;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        char buffer[4096];
        std::size_t n = 0;
        while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
            output.append(buffer, n);
        }
        pclose(pipe);
    }
    return output;
}

} // namespace harness
