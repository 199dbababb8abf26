// videos-web: serves the catalog page and forwards its data requests to playlists-api.
#include "static_site.hpp"
#include "web_handler.hpp"

#include "meshdemo/service_runtime.hpp"

#include <algorithm>
#include <memory>

using namespace meshdemo;

namespace {

std::string read_version(const settings_reader& reader) {
    const std::string version = reader.text("VERSION", "v1");
    const bool ok =
        version.size() <= 32 && std::all_of(version.begin(), version.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
        });
    if (!ok) {
        throw settings_error("VERSION", "must be up to 32 letters, digits, '.', '-' or '_'",
                             version);
    }
    return version;
}

std::string read_base_path(const settings_reader& reader) {
    std::string base = reader.text("BASE_PATH", "");
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    const bool ok = base.empty() || (base.front() == '/' && base.size() <= 100 &&
                                     base.find_first_of("?#% \\\t") == std::string::npos);
    if (!ok) {
        throw settings_error("BASE_PATH", "must be a path such as /home", base);
    }
    return base;
}

/** What every worker of videos-web is made from: the site, loaded once and shared read-only,
 * and its settings. */
struct web_setup {
    std::shared_ptr<const videos_web::static_site> site;
    http_url playlists_api;
    videos_web::web_settings settings;
};

/** What one worker thread of videos-web holds: its pool of connections to playlists-api and
 * the handler that serves the site and forwards to that pool. */
class web_worker final : public service_worker {
public:
    web_worker(asio::io_context& io, const web_setup& setup)
        : site_(setup.site), playlists_api_(io, setup.playlists_api),
          handler_(*site_, playlists_api_, setup.settings) {
        answer_with(handler_);
    }

private:
    std::shared_ptr<const videos_web::static_site> site_;
    http_client playlists_api_;
    videos_web::web_handler handler_;
};

std::shared_ptr<const videos_web::static_site> load_site(const std::string& web_root) {
    try {
        return std::make_shared<const videos_web::static_site>(
            videos_web::static_site::load(web_root));
    } catch (const std::runtime_error& error) {
        throw settings_error("WEB_ROOT", error.what(), web_root);
    }
}

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const main_port main{reader.port("PORT", 8080),
                         {"static", "/api/playlists", "/config.json", "other"}};
    web_setup setup;
    setup.playlists_api = reader.url("PLAYLISTS_API_URL", "http://playlists-api");
    setup.settings = {read_version(reader),
                      reader.milliseconds("PLAYLISTS_API_TIMEOUT_MS", 5000, 1, 600000),
                      read_base_path(reader)};
    setup.site = load_site(reader.text("WEB_ROOT", "web"));
    runtime.serve(main, [&setup](asio::io_context& io, std::size_t) {
        return std::make_unique<web_worker>(io, setup);
    });
}

} // namespace

int main(int argc, char** argv) {
    return run_service("videos-web", argc, argv, set_up);
}
