#include "meshdemo/response_writer.hpp"

namespace meshdemo {

void append_wire_head(std::string& out, const http_response& response) {
    out.append(response.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    out.append(std::to_string(response.result_int())).append(" ");
    out.append(response.reason()).append("\r\n");
    for (const auto& field : response.base()) {
        out.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
    }
    out.append("\r\n");
}

} // namespace meshdemo
