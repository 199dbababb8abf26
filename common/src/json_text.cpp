#include "meshdemo/json_text.hpp"

namespace meshdemo {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (byte < 0x20 || byte >= 0x7f) {
            out.append("\\u00");
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0xf]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

std::string json_error_body(std::string_view message) {
    std::string body = "{\"error\":";
    append_json_string(body, message);
    body.push_back('}');
    return body;
}

} // namespace meshdemo
