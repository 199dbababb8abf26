#include "child_process.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace harness {

using namespace std::chrono_literals;

child_process::child_process(std::vector<std::string> argv, const env_map& extra_env,
                             std::string log_path, int stdout_fd)
    : log_path_(std::move(log_path)) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string text = *entry;
        if (extra_env.count(text.substr(0, text.find('='))) == 0) {
            environment.push_back(text);
        }
    }
    for (const auto& [name, value] : extra_env) {
        environment.push_back(name + "=" + value);
    }
    std::vector<char*> args;
    for (auto& arg : argv) {
        args.push_back(arg.data());
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : environment) {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
        // If the test process dies without running destructors (a crash, an abort), take the
        // child with it: nothing a test started may outlive it.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(127);
        }
        const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(stdout_fd >= 0 ? stdout_fd : log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        execve(args[0], args.data(), envp.data());
        _exit(127);
    }
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
}

child_process::~child_process() {
    if (running()) {
        send(SIGTERM);
        if (!wait_exit(5s)) {
            send(SIGKILL);
            wait_exit(5s);
        }
    }
}

void child_process::send(int signal_number) const {
    if (pid_ > 0) {
        kill(pid_, signal_number);
    }
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
        int status = 0;
        const pid_t done = waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    return exit_code_;
}

bool child_process::running() {
    return pid_ > 0 && !wait_exit(0ms);
}

std::string child_process::log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace harness
