#!/usr/bin/env python3
"""Start-up time of each service: from the process's start to the first 200 from /readyz.

    python3 bench/startup.py BIN_DIR PLAYLISTS_DB_PORT VIDEOS_DB_PORT [RUNS]

BIN_DIR holds videos-api, playlists-api and videos-web (as bench/run.sh lays them out); the two
seeded Redis servers are already listening on loopback (bench/run.sh starts them). Each service
is started RUNS times (default 20), /readyz polled every millisecond, then stopped with SIGTERM.
Prints a markdown table of the median, 90th percentile and largest time. A benchmark, not a
test: it asserts nothing.
"""
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ready(admin_port):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=0.5)
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def time_to_ready(binary, env):
    admin_port = free_port()
    env = {**env, "PORT": str(free_port()), "ADMIN_PORT": str(admin_port),
           "BIND_ADDRESS": "127.0.0.1", "LOG_LEVEL": "warn", "PATH": "/usr/bin:/bin"}
    started = time.monotonic()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while not ready(admin_port):
            if process.poll() is not None or time.monotonic() - started > 10:
                raise RuntimeError(f"{binary} did not become ready")
            time.sleep(0.001)
        return (time.monotonic() - started) * 1000
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    bin_dir, playlists_db, videos_db = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) == 5 else 20
    services = {
        "videos-api": {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": videos_db},
        "playlists-api": {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": playlists_db,
                          "VIDEOS_API_URL": "http://127.0.0.1:1"},
        "videos-web": {"WEB_ROOT": os.path.join(REPO, "web"),
                       "PLAYLISTS_API_URL": "http://127.0.0.1:1"},
    }
    print(f"| service | median ms | p90 ms | max ms | runs |\n|---|---:|---:|---:|---:|")
    for name, env in services.items():
        times = sorted(time_to_ready(os.path.join(bin_dir, name), env) for _ in range(runs))
        p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
        print(f"| {name} | {statistics.median(times):.1f} | {p90:.1f} | {times[-1]:.1f} | {runs} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
