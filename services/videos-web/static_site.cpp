#include "static_site.hpp"

#include "meshdemo/url.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace videos_web {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t max_file_bytes = 16 * 1024 * 1024;

std::string fnv1a_etag(std::string_view data) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : data) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    char text[24];
    std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
    return text;
}

} // namespace

std::string_view content_type_for(std::string_view path) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> types{{
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    }};
    const auto dot = path.rfind('.');
    if (dot != std::string_view::npos && path.find('/', dot) == std::string_view::npos) {
        const std::string_view extension = path.substr(dot);
        for (const auto& [known, type] : types) {
            if (extension == known) {
                return type;
            }
        }
    }
    return "application/octet-stream";
}

std::string strip_base_path(std::string_view target, std::string_view base_path) {
    if (base_path.empty() || target.substr(0, base_path.size()) != base_path) {
        return std::string(target);
    }
    const std::string_view rest = target.substr(base_path.size());
    if (rest.empty() || rest.front() == '?' || rest.front() == '#') {
        std::string root(1, '/');
        root.append(rest);
        return root;
    }
    // "/homepage" is not under "/home".
    return std::string(rest.front() == '/' ? rest : target);
}

std::optional<std::string> resolve_static_path(std::string_view target) {
    const std::string_view raw = meshdemo::target_path(target);
    if (raw.empty() || raw.front() != '/' || raw.find("%2f") != std::string_view::npos ||
        raw.find("%2F") != std::string_view::npos) {
        return std::nullopt;
    }
    auto decoded = meshdemo::percent_decode(raw);
    const auto control = [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    };
    if (!decoded || decoded->find('\\') != std::string::npos ||
        std::any_of(decoded->begin(), decoded->end(), control)) {
        return std::nullopt;
    }
    std::string relative;
    std::string_view rest = std::string_view(*decoded).substr(1);
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (segment == "..") {
            return std::nullopt;
        }
        if (segment.empty() || segment == ".") {
            continue;
        }
        relative.append(relative.empty() ? "" : "/").append(segment);
    }
    if (relative.empty() || decoded->back() == '/') {
        relative.append(relative.empty() ? "" : "/").append("index.html");
    }
    return relative;
}

static_site static_site::load(const fs::path& root) {
    std::error_code ec;
    if (!fs::is_directory(root, ec) || !fs::is_regular_file(root / "index.html", ec)) {
        throw std::runtime_error(root.string() + " is not a directory holding index.html");
    }
    static_site site;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        // Hidden files and folders (.git, .env, editor backups) are never part of the site.
        if (it->path().filename().string().starts_with(".")) {
            if (it->is_directory()) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (!it->is_regular_file() || it->is_symlink()) {
            continue;
        }
        if (it->file_size() > max_file_bytes) {
            // Left out, it would be a 404 nobody expects: say so at start-up instead.
            throw std::runtime_error(it->path().string() + " is larger than " +
                                     std::to_string(max_file_bytes / (1024 * 1024)) +
                                     " MiB, the most a site file may be");
        }
        std::ifstream in(it->path(), std::ios::binary);
        std::ostringstream content;
        if (in && it->file_size() > 0) {
            content << in.rdbuf();
        }
        if (!in || in.bad() || content.bad() || content.str().size() != it->file_size()) {
            // Served empty, it would look like a working page with nothing in it.
            throw std::runtime_error("cannot read " + it->path().string());
        }
        const std::string relative = fs::relative(it->path(), root).generic_string();
        static_file file{content.str(), std::string(content_type_for(relative)), {}};
        file.etag = fnv1a_etag(file.body);
        site.files_.emplace(relative, std::move(file));
    }
    if (ec) {
        throw std::runtime_error("cannot read " + root.string() + ": " + ec.message());
    }
    return site;
}

const static_file* static_site::find(std::string_view relative_path) const {
    const auto found = files_.find(std::string(relative_path));
    return found == files_.end() ? nullptr : &found->second;
}

} // namespace videos_web
