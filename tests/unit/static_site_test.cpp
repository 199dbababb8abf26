#include "static_site.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

using namespace videos_web;
namespace fs = std::filesystem;

TEST(StaticPath, MapsTargetsToFilesUnderTheRoot) {
    EXPECT_EQ(resolve_static_path("/"), "index.html");
    EXPECT_EQ(resolve_static_path("/?x=1"), "index.html");
    EXPECT_EQ(resolve_static_path("/app.js"), "app.js");
    EXPECT_EQ(resolve_static_path("/img/a%20b.svg"), "img/a b.svg");
    EXPECT_EQ(resolve_static_path("/img/"), "img/index.html");
    EXPECT_EQ(resolve_static_path("//app.js"), "app.js");
    EXPECT_EQ(resolve_static_path("/./app.js"), "app.js");
}

TEST(StaticPath, RefusesEveryWayOut) {
    for (const char* bad : {"/../etc/passwd", "/..", "/a/../../etc/passwd", "/%2e%2e/etc/passwd",
                            "/%2E%2E%2Fetc%2Fpasswd", "/..%2fetc", "/a\\..\\b", "/%5c..%5cb",
                            "/%00", "/a%0Ab", "/a\tb", "etc/passwd", "", "/%zz"}) {
        EXPECT_FALSE(resolve_static_path(bad)) << bad;
    }
}

TEST(StaticSite, LoadsRegularFilesOnlyWithContentTypes) {
    const fs::path root =
        fs::temp_directory_path() / ("static-site-test-" + std::to_string(::getpid()));
    fs::create_directories(root / "img");
    std::ofstream(root / "index.html") << "<html></html>";
    std::ofstream(root / "img" / "a.svg") << "<svg/>";
    fs::create_symlink("/etc/hostname", root / "outside.txt");
    const auto site = static_site::load(root);
    ASSERT_NE(site.find("index.html"), nullptr);
    EXPECT_EQ(site.find("index.html")->content_type, "text/html; charset=utf-8");
    EXPECT_EQ(site.find("img/a.svg")->content_type, "image/svg+xml");
    EXPECT_EQ(site.find("outside.txt"), nullptr);
    EXPECT_EQ(site.find("../index.html"), nullptr);
    fs::remove_all(root);
}

TEST(StaticSite, RootWithoutIndexIsRefused) {
    EXPECT_THROW(static_site::load("/nonexistent-web-root"), std::runtime_error);
}

TEST(StaticSite, ContentTypes) {
    EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("a.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("a.json"), "application/json");
    EXPECT_EQ(content_type_for("a.png"), "image/png");
    EXPECT_EQ(content_type_for("dir.x/noext"), "application/octet-stream");
}

TEST(StaticPath, BasePathIsStrippedOnlyWhenItIsAPrefixOfWholeSegments) {
    EXPECT_EQ(strip_base_path("/home", "/home"), "/");
    EXPECT_EQ(strip_base_path("/home/", "/home"), "/");
    EXPECT_EQ(strip_base_path("/home?reload=5", "/home"), "/?reload=5");
    EXPECT_EQ(strip_base_path("/home/app.js?x", "/home"), "/app.js?x");
    EXPECT_EQ(strip_base_path("/homepage", "/home"), "/homepage");
    EXPECT_EQ(strip_base_path("/app.js", "/home"), "/app.js");
    EXPECT_EQ(strip_base_path("/home/app.js", ""), "/home/app.js");
}
