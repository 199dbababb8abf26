#pragma once

#include <string>
#include <string_view>

namespace meshdemo {

/**
 * Appends text as a quoted JSON string. Control characters and bytes outside ASCII are escaped,
 * so that whatever a client sent (invalid UTF-8 included) yields valid JSON.
 */
void append_json_string(std::string& out, std::string_view text);

/** {"error":"<message>"}: the body of every error answer. */
std::string json_error_body(std::string_view message);

} // namespace meshdemo
