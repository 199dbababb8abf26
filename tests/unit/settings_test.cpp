#include "meshdemo/settings.hpp"

#include <gtest/gtest.h>

#include <map>

using meshdemo::settings_error;
using meshdemo::settings_reader;

namespace {

settings_reader reader_of(std::map<std::string, std::string> values) {
    return settings_reader(
        [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
            const auto found = values.find(std::string(name));
            if (found == values.end()) {
                return std::nullopt;
            }
            return found->second;
        });
}

std::string error_of(const std::function<void()>& read) {
    try {
        read();
    } catch (const settings_error& error) {
        return error.what();
    }
    return "no error";
}

} // namespace

TEST(Settings, UnsetAndEmptyMeanDefault) {
    const auto reader = reader_of({{"PORT", ""}});
    EXPECT_EQ(reader.port("PORT", 10010), 10010);
    EXPECT_EQ(reader.port("ADMIN_PORT", 9090), 9090);
    EXPECT_FALSE(reader.boolean("FLAKY", false));
    EXPECT_EQ(reader.text("ENVIRONMENT", ""), "");
}

TEST(Settings, ReadsValidValues) {
    const auto reader = reader_of({{"PORT", "8081"},
                                   {"FLAKY", "TRUE"},
                                   {"FLAKY_RATE", "0.25"},
                                   {"LOG_FORMAT", "Text"},
                                   {"REDIS_HOST", "videos-db.ns.svc"}});
    EXPECT_EQ(reader.port("PORT", 1), 8081);
    EXPECT_TRUE(reader.boolean("FLAKY", false));
    EXPECT_DOUBLE_EQ(reader.number("FLAKY_RATE", 0.3, 0, 1), 0.25);
    EXPECT_EQ(reader.one_of("LOG_FORMAT", "json", {"json", "text"}), "text");
    EXPECT_EQ(reader.host("REDIS_HOST", "x"), "videos-db.ns.svc");
}

TEST(Settings, BadValuesNameTheVariableInOneLine) {
    const auto reader = reader_of({{"PORT", "80a"},
                                   {"ADMIN_PORT", "70000"},
                                   {"FLAKY", "sometimes"},
                                   {"FLAKY_RATE", "1.5"},
                                   {"REDIS_HOST", "bad host"},
                                   {"VIDEOS_API_URL", "https://x"},
                                   {"LOG_LEVEL", "loud"}});
    const std::string port = error_of([&] { reader.port("PORT", 1); });
    EXPECT_NE(port.find("PORT"), std::string::npos);
    EXPECT_NE(port.find("80a"), std::string::npos);
    EXPECT_EQ(port.find('\n'), std::string::npos);
    EXPECT_NE(error_of([&] { reader.port("ADMIN_PORT", 1); }).find("ADMIN_PORT"),
              std::string::npos);
    EXPECT_NE(error_of([&] { reader.boolean("FLAKY", false); }).find("FLAKY"), std::string::npos);
    EXPECT_NE(error_of([&] { reader.number("FLAKY_RATE", 0, 0, 1); }).find("FLAKY_RATE"),
              std::string::npos);
    EXPECT_NE(error_of([&] { reader.host("REDIS_HOST", "x"); }).find("REDIS_HOST"),
              std::string::npos);
    EXPECT_NE(error_of([&] { reader.url("VIDEOS_API_URL", "http://x"); }).find("VIDEOS_API_URL"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  reader.one_of("LOG_LEVEL", "info", {"info", "debug"});
              }).find("LOG_LEVEL"),
              std::string::npos);
}

TEST(Settings, NumbersMustBeWhollyNumeric) {
    const auto reader = reader_of({{"A", "12 "}, {"B", "0x10"}, {"C", "nan"}, {"D", "-1"}});
    EXPECT_THROW(reader.integer("A", 0, 0, 100), settings_error);
    EXPECT_THROW(reader.integer("B", 0, 0, 100), settings_error);
    EXPECT_THROW(reader.number("C", 0, 0, 1), settings_error);
    EXPECT_THROW(reader.integer("D", 0, 0, 100), settings_error);
}

TEST(Settings, RatesArePlainDecimals) {
    const auto reader = reader_of({{"BLANK", " 0.5"},
                                   {"TRAILING", "0.5 "},
                                   {"HEX", "0x1p-1"},
                                   {"EXPONENT", "5e-1"},
                                   {"INF", "inf"},
                                   {"GOOD", "0.5"},
                                   {"DOT", ".25"},
                                   {"ONE", "1"}});
    for (const char* name : {"BLANK", "TRAILING", "HEX", "EXPONENT", "INF"}) {
        EXPECT_THROW(reader.number(name, 0, 0, 1), settings_error) << name;
    }
    EXPECT_DOUBLE_EQ(reader.number("GOOD", 0, 0, 1), 0.5);
    EXPECT_DOUBLE_EQ(reader.number("DOT", 0, 0, 1), 0.25);
    EXPECT_DOUBLE_EQ(reader.number("ONE", 0, 0, 1), 1.0);
}
