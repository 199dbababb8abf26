#include "meshdemo/json_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace meshdemo;

TEST(JsonText, EscapesWhateverAClientSent) {
    std::string out;
    append_json_string(out, std::string("a\"b\\c\n\x01\xff/", 9));
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\u000a\\u0001\\u00ff/\"");
    EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(JsonText, ErrorBodiesAreJson) {
    const auto body = nlohmann::json::parse(json_error_body("no \"video\""));
    EXPECT_EQ(body["error"], "no \"video\"");
}
