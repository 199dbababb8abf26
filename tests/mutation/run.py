#!/usr/bin/env python3
"""Mutation check: do the fast tests catch realistic bugs?

Copies the working tree to a temporary folder, builds it once (release preset), then for each
named mutant below: applies it to the copy, rebuilds incrementally, runs the fast tests
(`ctest -L 'unit|integration'`, stopping at the first failure) and reverts it. A mutant is
caught when a test fails, survives when all pass. Prints a table and the score; exits 1 if any
mutant survived (or no longer applies). Outside the default test command, like the benchmark:
it takes about two minutes per mutant on 2 cores.

    python3 tests/mutation/run.py              # every mutant
    python3 tests/mutation/run.py --list       # names only
    python3 tests/mutation/run.py NAME...      # only these
    python3 tests/mutation/run.py --keep       # keep the copy (its path is printed)
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# (name, file, text as it is, text as the mutant has it). Each text must occur exactly once.
MUTANTS = [
    ("trace header list loses traceparent", "common/src/trace_context.cpp",
     '"x-request-id", "traceparent",', '"x-request-id",'),
    ("omitted videos not counted", "services/playlists-api/playlist_catalog.cpp",
     "++result.videos_omitted;", ""),
    ("FLAKY comparison turned around", "common/src/fault_injector.cpp",
     "(random_) < settings_.failure_rate", "(random_) > settings_.failure_rate"),
    ("path traversal check misses ..", "services/videos-web/static_site.cpp",
     'if (segment == "..") {', 'if (segment == "...") {'),
    ("videos spliced in reverse order", "services/playlists-api/playlist_catalog.cpp",
     "for (const std::size_t index : playlist.videos) {",
     "for (auto it = playlist.videos.rbegin(); it != playlist.videos.rend(); ++it) {\n"
     "            const std::size_t index = *it;"),
    ("unknown id answers 200", "services/videos-api/videos_handler.cpp",
     'json_error(request, http::status::not_found, "no video with this id")',
     'json_response(request, http::status::ok, "{}")'),
    ("FLAKY_STATUS range widened", "common/src/fault_injector.cpp",
     'reader.integer("FLAKY_STATUS", 500, 400, 599)', 'reader.integer("FLAKY_STATUS", 500, 100, 999)'),
    ("MAX_BODY_BYTES not applied", "common/src/http_server.cpp",
     "parser.body_limit(limits.body_bytes);", ""),
    ("MAX_HEADER_BYTES not applied", "common/src/http_server.cpp",
     "parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));", ""),
    ("ready after SIGTERM", "common/src/admin_routes.cpp",
     'reason = "shutting down";', ""),
    ("refused requests counted with no status", "common/src/http_server.cpp",
     "record(nullptr, context, response.result_int(), started);",
     "record(nullptr, context, 0, started);"),
    ("X-Videos-Omitted not forwarded", "services/videos-web/web_handler.cpp",
     '{"Content-Type", "X-Videos-Total", "X-Videos-Omitted"}', '{"Content-Type", "X-Videos-Total"}'),
    ("slow playlists-api answers 502, not 504", "services/videos-web/web_handler.cpp",
     "co_return json_error(request, http::status::gateway_timeout,",
     "co_return json_error(request, http::status::bad_gateway,"),
    ("video id length bound raised", "services/videos-api/video_id.hpp",
     "max_video_id_bytes = 256;", "max_video_id_bytes = 2560;"),
    ("a 500 from videos-api counted as 4xx", "services/playlists-api/playlists_handler.cpp",
     "status >= 500) {", "status > 500) {"),
    ("a 200 that is not a video counted ok", "services/playlists-api/playlists_handler.cpp",
     "outcome = call_outcome::invalid;\n        problem", "problem"),
    # Issue 12: the promises a mesh demo rests on.
    ("a call with no answer resent on a fresh connection", "common/src/http_client.cpp",
     "    if (read_error) {\n        co_return failed(stream.failure(read_error),",
     "    if (read_error && read == 0) {\n"
     "        auto fresh = std::make_unique<pooled_connection>(io_);\n"
     "        if (auto again = co_await connect(fresh->stream, deadline); again.answered()) {\n"
     "            write_head(fresh->head, path, headers);\n"
     "            co_await asio::async_write(fresh->stream, asio::buffer(fresh->head), use_nothrow);\n"
     "            http::response_parser<http::string_body> second;\n"
     "            auto [second_error, second_read] =\n"
     "                co_await http::async_read(fresh->stream, fresh->buffer, second, use_nothrow);\n"
     "            if (!second_error) {\n"
     "                again.response = second.release();\n"
     "                co_return again;\n"
     "            }\n"
     "        }\n"
     "    }\n"
     "    if (read_error) {\n        co_return failed(stream.failure(read_error),"),
    ("idle connections reused without the close check", "common/src/http_client.cpp",
     "&& still_open(link->stream.socket())", "&& (still_open(link->stream.socket()) || true)"),
    ("the name lookup outside the deadline", "common/src/host_addresses.cpp",
     "state->lookup_ended.wait_until(deadline)",
     "state->lookup_ended.wait_until(deadline + std::chrono::hours(24))"),
    ("no Redis connect timeout", "common/src/redis_client.cpp",
     "co_await state_changed_.wait_until(deadline) &&",
     "co_await state_changed_.wait_until(deadline + std::chrono::hours(24)) &&"),
    # Issue 15: the shared pieces the redesign named.
    ("a freed connection handed to a waiter whose deadline passed", "common/src/async_event.cpp",
     "        if (next.wake.cancel() > 0) {\n            return true;\n        }",
     "        next.wake.cancel();\n        return true;"),
    ("Redis not reconnected after a loss", "common/src/redis_client.cpp",
     "co_await state_changed_.wait_until(steady_clock::now() + backoff); // or stop()",
     "co_return;"),
    ("the request budget ignored", "services/playlists-api/playlists_handler.cpp",
     "std::min(started + fanout_.call_timeout, budget_end)",
     "std::max(started + fanout_.call_timeout, budget_end)"),
    ("Transfer-Encoding not checked", "common/src/http_server.cpp",
     "if (parser.get().count(http::field::transfer_encoding) > 0 && !parser.chunked()) {",
     "if (false) {"),
    ("no lingering close after an error answer", "common/src/http_server.cpp",
     "    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);\n"
     "    stream.expires_after(linger_time);",
     "    co_return;\n    stream.expires_after(linger_time);"),
    ("playlists-api not ready without videos-api", "services/playlists-api/main.cpp",
     "private:\n    http_client videos_api_;",
     "asio::awaitable<std::string> unready_reason() override {\n"
     '        co_return std::string("videos-api cannot be reached");\n'
     "    }\n\nprivate:\n    http_client videos_api_;"),
    ("hidden files served", "services/videos-web/static_site.cpp",
     'if (it->path().filename().string().starts_with(".")) {', "if (false) {"),
    ("an unreadable file served empty", "services/videos-web/static_site.cpp",
     "if (!in || in.bad() || content.bad() || content.str().size() != it->file_size()) {",
     "if (false) {"),
    ("--probe says ready whatever the answer", "common/src/readiness_probe.cpp",
     'if (got.substr(0, 7) != "HTTP/1." || got.substr(8) != " 200") {', "if (false) {"),
    ("a passed deadline leaves the connection open", "common/src/deadline_stream.cpp",
     "state->socket->close(ignored);", "(void)ignored;"),
    ("an earlier deadline waits for the timer's later wake-up", "common/src/deadline_stream.cpp",
     "        state_->timer.cancel(); // wakes watch()", "        // wakes watch()"),
    ("a destroyed stream's timer sleeps on", "common/src/deadline_stream.cpp",
     "    state_->socket = nullptr;\n    state_->timer.cancel();", "    state_->socket = nullptr;"),
    ("a stream without a deadline keeps its timer running", "common/src/deadline_stream.cpp",
     "while (state->socket != nullptr && state->deadline != clock::time_point::max()) {",
     "while (state->socket != nullptr) {"),
    ("the read timeout cuts off a slow handler's answer", "common/src/http_server.cpp",
     "        stream.expires_never();\n", ""),
    ("the log writer waits for stdout forever at exit", "common/src/logging.cpp",
     "deadline = now + last_write_limit;", "deadline = now + std::chrono::hours(24);"),
]


def run(command, cwd, log, timeout=None):
    with open(log, "w") as out:
        return subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout).returncode


def copy_tree(target):
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = os.path.join(REPO, name)
        if not os.path.isfile(source):
            continue  # deleted in the working tree
        os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
        shutil.copy2(source, os.path.join(target, name))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="only the mutants with these names")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(name for name, *_ in MUTANTS))
        return 0
    chosen = [m for m in MUTANTS if not args.names or m[0] in args.names]
    unknown = set(args.names) - {m[0] for m in MUTANTS}
    if unknown:
        print(f"mutation: no mutant named {', '.join(sorted(unknown))} (see --list)", file=sys.stderr)
        return 2

    copy = tempfile.mkdtemp(prefix="smdemo-mutation.")
    jobs = str(os.cpu_count() or 2)
    results = []
    try:
        copy_tree(copy)
        print(f"mutation: building the unchanged copy in {copy}", flush=True)
        if run(["cmake", "--preset", "release"], copy, f"{copy}/configure.log") != 0 or \
                run(["cmake", "--build", "build/release", "-j", jobs], copy, f"{copy}/build.log") != 0:
            print(f"mutation: the unchanged copy does not build (see {copy}/build.log)", file=sys.stderr)
            args.keep = True
            return 2
        fast_tests = ["ctest", "--preset", "release", "-L", "unit|integration", "-j", jobs,
                      "--stop-on-failure", "--timeout", "180"]
        if run(fast_tests, copy, f"{copy}/baseline.log") != 0:
            print(f"mutation: the fast tests fail without a mutant (see {copy}/baseline.log)",
                  file=sys.stderr)
            args.keep = True
            return 2
        for name, file, before, after in chosen:
            path = os.path.join(copy, file)
            original = open(path).read()
            started = time.monotonic()
            if original.count(before) != 1:
                verdict = "STALE: the text to change is not there once"
            else:
                open(path, "w").write(original.replace(before, after))
                slug = "".join(c if c.isalnum() else "-" for c in name)
                if run(["cmake", "--build", "build/release", "-j", jobs], copy,
                       f"{copy}/{slug}.build.log") != 0:
                    verdict = "does not compile"
                elif run(fast_tests, copy, f"{copy}/{slug}.test.log") != 0:
                    verdict = "caught"
                else:
                    verdict = "SURVIVED"
                open(path, "w").write(original)
            seconds = time.monotonic() - started
            results.append((name, verdict))
            print(f"  {verdict:<10} {seconds:6.0f}s  {name}", flush=True)
        # Leave the copy's build as the unchanged sources had it.
        run(["cmake", "--build", "build/release", "-j", jobs], copy, f"{copy}/final.log")
    finally:
        if args.keep:
            print(f"mutation: kept {copy}")
        else:
            shutil.rmtree(copy, ignore_errors=True)

    caught = sum(verdict == "caught" for _, verdict in results)
    width = max(len(name) for name, _ in results)
    print(f"\n| {'mutant':<{width}} | verdict |\n|{'-' * (width + 2)}|---------|")
    for name, verdict in results:
        print(f"| {name:<{width}} | {verdict} |")
    print(f"\nmutation score: {caught} of {len(results)} caught")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
