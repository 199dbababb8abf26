#include "meshdemo/url.hpp"

#include <gtest/gtest.h>

using namespace meshdemo;

TEST(Url, ParsesHostPortAndBasePath) {
    const auto url = parse_http_url("http://videos-api:10010");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->host, "videos-api");
    EXPECT_EQ(url->port, 10010);
    EXPECT_EQ(url->base_path, "");
    EXPECT_EQ(url->authority(), "videos-api:10010");

    const auto with_path = parse_http_url("http://playlists-api/base/");
    ASSERT_TRUE(with_path);
    EXPECT_EQ(with_path->port, 80);
    EXPECT_EQ(with_path->base_path, "/base");
    EXPECT_EQ(with_path->authority(), "playlists-api");
}

TEST(Url, RejectsWhatIsNotAPlainHttpAddress) {
    for (const char* bad :
         {"", "videos-api:10010", "https://videos-api", "http://", "http://a:0", "http://a:65536",
          "http://a:100010", "http://a:80800", "http://a:99999", "http://a:", "http://a:x",
          "http://a b", "http://a/?q", "ftp://a", "http://a/b c", "http://a/x\r\nInjected: 1",
          "http://a/\x01", "http://a/\x7f", "http://a/\xc3\xa9"}) {
        EXPECT_FALSE(parse_http_url(bad)) << bad;
    }
}

TEST(Url, PercentDecoding) {
    EXPECT_EQ(percent_decode("%5FlpDfMkxccc"), "_lpDfMkxccc");
    EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
    EXPECT_FALSE(percent_decode("%"));
    EXPECT_FALSE(percent_decode("%4"));
    EXPECT_FALSE(percent_decode("%zz"));
    EXPECT_FALSE(percent_decode("%00"));
}

TEST(Url, PercentEncodingRoundTrips) {
    EXPECT_EQ(percent_encode("_lpDfMkxccc"), "_lpDfMkxccc");
    EXPECT_EQ(percent_encode("a/b c"), "a%2Fb%20c");
    EXPECT_EQ(percent_decode(percent_encode("../\xff%x")), "../\xff%x");
}

TEST(Url, TargetPathDropsQueryAndFragment) {
    EXPECT_EQ(target_path("/a?b=c"), "/a");
    EXPECT_EQ(target_path("/a#f"), "/a");
    EXPECT_EQ(target_path("/"), "/");
}
