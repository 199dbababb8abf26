// videos-web: serves the catalog page and forwards its data requests to playlists-api.
#include "static_site.hpp"
#include "web_handler.hpp"

#include "meshdemo/service_runtime.hpp"

#include <algorithm>

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

void set_up(const settings_reader& reader, service_runtime& runtime) {
    const std::uint16_t port = reader.port("PORT", 8080);
    const http_url playlists_api = reader.url("PLAYLISTS_API_URL", "http://playlists-api");
    const videos_web::web_settings settings{
        read_version(reader), reader.milliseconds("PLAYLISTS_API_TIMEOUT_MS", 5000, 1, 600000),
        read_base_path(reader)};
    const std::string web_root = reader.text("WEB_ROOT", "web");
    const auto& site = [&]() -> const videos_web::static_site& {
        try {
            return runtime.make_owned<videos_web::static_site>(
                videos_web::static_site::load(web_root));
        } catch (const std::runtime_error& error) {
            throw settings_error("WEB_ROOT", error.what(), web_root);
        }
    }();

    runtime.serve(port, {"static", "/api/playlists", "/config.json", "other"},
                  [&](std::size_t worker) -> request_handler {
                      auto& playlists =
                          runtime.make_owned<http_client>(runtime.worker(worker), playlists_api);
                      auto& handler =
                          runtime.make_owned<videos_web::web_handler>(site, playlists, settings);
                      return [&handler](const http_request& request, request_context& context) {
                          return handler(request, context);
                      };
                  });
}

} // namespace

int main(int argc, char** argv) {
    return run_service("videos-web", argc, argv, set_up);
}
