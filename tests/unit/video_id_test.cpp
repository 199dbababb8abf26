#include "video_id.hpp"

#include <gtest/gtest.h>

using videos_api::parse_video_id;
using status = boost::beast::http::status;

TEST(VideoId, PlainAndEncodedIds) {
    EXPECT_EQ(parse_video_id("/jM36M39MA3I").id, "jM36M39MA3I");
    EXPECT_EQ(parse_video_id("/%5FlpDfMkxccc").id, "_lpDfMkxccc");
    EXPECT_EQ(parse_video_id("/jM36M39MA3I?x=1").id, "jM36M39MA3I");
    EXPECT_EQ(parse_video_id("/..").id, ".."); // just a key that does not exist: no files here
}

TEST(VideoId, EveryOtherShapeIsAnError) {
    EXPECT_EQ(parse_video_id("/").status, status::not_found);
    EXPECT_EQ(parse_video_id("").status, status::bad_request);
    EXPECT_EQ(parse_video_id("*").status, status::bad_request);
    EXPECT_EQ(parse_video_id("/a/b").status, status::not_found);
    EXPECT_EQ(parse_video_id("/a%2Fb").status, status::not_found);
    EXPECT_EQ(parse_video_id("/%zz").status, status::bad_request);
    EXPECT_EQ(parse_video_id("/%00").status, status::bad_request);
    EXPECT_EQ(parse_video_id("/" + std::string(257, 'a')).status, status::bad_request);
    EXPECT_EQ(parse_video_id("/" + std::string(256, 'a')).status, status::ok);
}
