#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace harness {

using env_map = std::map<std::string, std::string>;

/** A child process started with the current environment plus extras; output goes to a log
 * file (stdout to stdout_fd instead when given). Ended by its PID (SIGTERM, then SIGKILL) when
 * destroyed, even if a test failed. */
class child_process {
public:
    child_process(std::vector<std::string> argv, const env_map& extra_env, std::string log_path,
                  int stdout_fd = -1);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const { return pid_; }
    void send(int signal_number) const;
    /** The exit code (or 128 + signal) once it exits within timeout. */
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    bool running();
    std::string log() const;

private:
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
    std::string log_path_;
};

} // namespace harness
