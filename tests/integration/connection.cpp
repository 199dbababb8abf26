#include "connection.hpp"

#include "meshdemo/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cctype>

namespace harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using meshdemo::use_nothrow;

namespace {

answer to_answer(const http::response<http::string_body>& response) {
    answer result;
    result.status = response.result_int();
    result.body = response.body();
    for (const auto& field : response) {
        std::string name(field.name_string());
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        result.headers[name] = std::string(field.value());
    }
    return result;
}

} // namespace

answer connection::request(const std::string& target, const header_list& headers, http::verb method,
                           std::chrono::milliseconds timeout) {
    answer result;
    asio::co_spawn(io_, exchange(target, headers, method, timeout, result), asio::detached);
    io_.restart();
    io_.run();
    return result;
}

asio::awaitable<void> connection::exchange(std::string target, header_list headers,
                                           http::verb method, std::chrono::milliseconds timeout,
                                           answer& result) {
    stream_.expires_after(timeout);
    if (!open_) {
        const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
        auto [ec] = co_await stream_.async_connect(endpoint, use_nothrow);
        if (ec) {
            result.error = "connect: " + ec.message();
            co_return;
        }
        stream_.socket().set_option(tcp::no_delay(true));
        open_ = true;
    }
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
        request.set(name, value);
    }
    auto [write_error, written] = co_await http::async_write(stream_, request, use_nothrow);
    if (write_error) {
        result.error = "write: " + write_error.message();
        close();
        co_return;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method == http::verb::head) {
        parser.skip(true);
    }
    auto [read_error, read] = co_await http::async_read(stream_, buffer_, parser, use_nothrow);
    if (read_error) {
        result.error = "read: " + read_error.message();
        close();
        co_return;
    }
    result = to_answer(parser.get());
    if (!parser.get().keep_alive()) {
        close();
    }
}

void connection::close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    open_ = false;
}

} // namespace harness
