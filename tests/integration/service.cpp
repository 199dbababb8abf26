#include "service.hpp"

#include "eventually.hpp"
#include "http_get.hpp"
#include "temp_dir.hpp"

#include <stdexcept>

namespace harness {

std::string source_dir() {
    return SOURCE_DIR;
}
std::string videos_api_binary() {
    return VIDEOS_API_BIN;
}
std::string playlists_api_binary() {
    return PLAYLISTS_API_BIN;
}
std::string videos_web_binary() {
    return VIDEOS_WEB_BIN;
}

service::service(std::string binary, env_map env, bool wait_until_ready, int stdout_fd)
    : binary_(std::move(binary)), env_(std::move(env)), port_(free_port()),
      admin_port_(free_port()), log_dir_("service-log"), wait_(wait_until_ready),
      stdout_fd_(stdout_fd) {
    env_.emplace("PORT", std::to_string(port_));
    env_.emplace("ADMIN_PORT", std::to_string(admin_port_));
    env_.emplace("BIND_ADDRESS", "127.0.0.1");
    env_.emplace("LOG_FORMAT", "json");
    port_ = static_cast<std::uint16_t>(std::stoi(env_["PORT"]));
    admin_port_ = static_cast<std::uint16_t>(std::stoi(env_["ADMIN_PORT"]));
    launch();
}

// The process goes first (declared last), then its log folder.
service::~service() = default;

void service::launch() {
    process_ = std::make_unique<child_process>(std::vector<std::string>{binary_}, env_,
                                               log_dir_.path() + "/service.log", stdout_fd_);
    if (!wait_) {
        return;
    }
    const bool ready = eventually(
        [&] { return http_get(admin_port_, "/readyz", {}, http::verb::get, 1s).status == 200; },
        15s);
    if (!ready) {
        throw std::runtime_error(binary_ + " did not become ready: " + process_->log());
    }
}

void service::restart() {
    process_.reset();
    launch();
}

void service::stop() {
    process_.reset();
}

} // namespace harness
