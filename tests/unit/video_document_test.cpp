#include "video_document.hpp"

#include <gtest/gtest.h>

#include <string>

using playlists_api::video_document_check;

TEST(VideoDocument, OnlyOneJsonObjectCountsAsAVideo) {
    video_document_check is_video;
    EXPECT_TRUE(is_video(R"({"id":"x"})"));
    EXPECT_TRUE(is_video(" {\"id\":\"x\"}\n"));
    EXPECT_TRUE(is_video(R"({"id":"x","tags":["a",{"b":null}],"n":-1.5e3,"ok":true})"));
    EXPECT_FALSE(is_video("[]"));
    EXPECT_FALSE(is_video("\"x\""));
    EXPECT_FALSE(is_video("<html>"));
    EXPECT_FALSE(is_video("{\"id\":"));
    EXPECT_FALSE(is_video("{} trailing"));
    EXPECT_FALSE(is_video("{}{}"));
    EXPECT_FALSE(is_video("{\"id\":'x'}"));
    EXPECT_FALSE(is_video(""));
    EXPECT_FALSE(is_video("   "));
}

TEST(VideoDocument, RejectsWhatIsNotJsonText) {
    video_document_check is_video;
    EXPECT_FALSE(is_video("{\"id\":\"\xff\"}")) << "invalid UTF-8";
    EXPECT_FALSE(is_video("{\"id\":\"a\nb\"}")) << "control character in a string";
    EXPECT_FALSE(is_video("{\"n\":01}")) << "leading zero";
    EXPECT_FALSE(is_video("{\"n\":1e999}")) << "a number no double holds, as nlohmann says";
    EXPECT_FALSE(is_video(std::string("{\"id\":\"x\"}\0", 11))) << "a NUL after the object";
    EXPECT_FALSE(is_video(std::string("{}\0x", 4))) << "nlohmann alone takes NUL for the end";
}

TEST(VideoDocument, AcceptsValidJsonThatSimdjsonCannotRepresent) {
    video_document_check is_video;
    EXPECT_TRUE(is_video(R"({"views":123456789012345678901234567890})"));
    EXPECT_TRUE(is_video(R"({"views":-18446744073709551616})"));
    const std::string deep = "{\"a\":" + std::string(2000, '[') + std::string(2000, ']') + "}";
    EXPECT_TRUE(is_video(deep));
}

TEST(VideoDocument, ChecksLargeDocumentsAndKeepsWorkingAfterThem) {
    video_document_check is_video;
    const std::string large = R"({"description":")" + std::string(200 * 1024, 'x') + "\"}";
    EXPECT_TRUE(is_video(large));
    EXPECT_FALSE(is_video(large.substr(0, large.size() - 1)));
    EXPECT_TRUE(is_video(R"({"id":"x"})"));
    EXPECT_FALSE(is_video(R"({"id":"x")"));
}
