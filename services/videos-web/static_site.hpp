#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace videos_web {

/** One file of the site, held in memory. */
struct static_file {
    std::string body;
    std::string content_type;
    std::string etag;
};

/**
 * Represents the static site in WEB_ROOT, read into memory once at start-up: serving it then
 * needs no file I/O on the event loop, and no path can reach a file outside the root, because
 * only the regular files found under it exist here.
 */
class static_site {
public:
    /** Reads every regular file under root (symbolic links are not followed). Throws
     * std::runtime_error when root is not a directory holding index.html. */
    static static_site load(const std::filesystem::path& root);

    /** The file at a path relative to the root ("index.html", "img/x.svg"), or nullptr. */
    const static_file* find(std::string_view relative_path) const;

private:
    std::unordered_map<std::string, static_file> files_;
};

/**
 * The site-relative file a request target names: "/" and "/dir/" mean index.html; the query is
 * ignored; escapes are decoded. Empty when the path is malformed or tries to leave the root
 * ("..", backslashes, control characters, an escaped slash).
 */
std::optional<std::string> resolve_static_path(std::string_view target);

/**
 * The request target without the site's path prefix (BASE_PATH, e.g. "/home"), so that the site
 * answers both behind a proxy that strips the prefix and behind one that does not:
 * "/home" and "/home/" become "/", "/home/app.js?x" becomes "/app.js?x". Targets outside the
 * prefix are returned unchanged; an empty prefix changes nothing.
 */
std::string strip_base_path(std::string_view target, std::string_view base_path);

/** The Content-Type for a file name, by extension. */
std::string_view content_type_for(std::string_view path);

} // namespace videos_web
