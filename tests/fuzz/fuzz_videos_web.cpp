// videos-web: no request target resolves to a path that could leave the site root.
#include "request_parsing.hpp"
#include "static_site.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto request = parse_request(data, size);
    const std::string_view target =
        request ? std::string_view(request->target())
                : std::string_view(reinterpret_cast<const char*>(data), size);
    const auto path = videos_web::resolve_static_path(target);
    if (!path) {
        return 0;
    }
    const std::string& p = *path;
    const bool escapes = p.empty() || p.front() == '/' || p.find('\\') != std::string::npos ||
                         p.find('\0') != std::string::npos || p == ".." || p.rfind("../", 0) == 0 ||
                         p.find("/../") != std::string::npos ||
                         (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
    if (escapes) {
        std::abort();
    }
    return 0;
}
