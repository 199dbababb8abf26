#pragma once

#include "child_process.hpp"
#include "temp_dir.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace harness {

/** One of our service executables, on free ports, ready when constructed (or failed). */
class service {
public:
    /** stdout_fd: where the service's stdout goes instead of its log file (a pipe, say). */
    service(std::string binary, env_map env, bool wait_until_ready = true, int stdout_fd = -1);
    ~service();
    std::uint16_t port() const { return port_; }
    std::uint16_t admin_port() const { return admin_port_; }
    child_process& process() { return *process_; }
    std::string log() const { return process_->log(); }
    /** Starts the same executable again on the same ports. */
    void restart();
    void stop();

private:
    void launch();

    std::string binary_;
    env_map env_;
    std::uint16_t port_;
    std::uint16_t admin_port_;
    temp_dir log_dir_; ///< removed after the process stopped, also when starting failed
    bool wait_;
    int stdout_fd_;
    std::unique_ptr<child_process> process_;
};

std::string videos_api_binary();
std::string playlists_api_binary();
std::string videos_web_binary();
std::string source_dir();

} // namespace harness
