#pragma once

#include "meshdemo/async.hpp"
#include "meshdemo/http_types.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <string>

namespace meshdemo {

/** Appends the status line and header fields as they go on the wire, ending with the blank line.
 * Written with the body in one gather write instead of Beast's generic serializer, whose buffer
 * sequence machinery costs more than the rest of a small exchange. */
void append_wire_head(std::string& out, const http_response& response);

/**
 * Writes a response, head and body, in one gather write; errors come back as values. `head` is
 * the caller's scratch buffer for the head and must outlive the write: a connection reuses one
 * for all its answers, so that writing allocates nothing.
 */
template <typename Stream>
auto async_write_response(Stream& stream, const http_response& response, std::string& head) {
    head.clear();
    append_wire_head(head, response);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                    asio::buffer(response.body())};
    return asio::async_write(stream, buffers, use_nothrow);
}

} // namespace meshdemo
