#!/usr/bin/env python3
"""Start-up time of each service: from the process's start to the first 200 from /readyz.

    python3 bench/startup.py BIN_DIR PLAYLISTS_DB_PORT VIDEOS_DB_PORT [RUNS]

BIN_DIR holds videos-api/videos-api, playlists-api/playlists-api and videos-web/videos-web (as
build/release/services does); the two seeded Redis servers are already listening on loopback
(bench/bench.py starts them and calls measure_all). Each service is started RUNS times (default
20), /readyz polled every millisecond, then stopped with SIGTERM. Prints the times as JSON: the
median, 90th percentile and largest, and every time measured. A benchmark, not a test: it asserts
nothing.
"""
import http.client
import json
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


def summary(times):
    times = sorted(times)
    return {"median_ms": statistics.median(times),
            "p90_ms": times[min(len(times) - 1, int(len(times) * 0.9))],
            "max_ms": times[-1], "runs": len(times), "times_ms": [round(t, 3) for t in times]}


def measure_all(bin_dir, playlists_db_port, videos_db_port, runs=20):
    """{service: summary} for the three services, each started runs times."""
    services = {
        "videos-api": {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(videos_db_port)},
        "playlists-api": {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(playlists_db_port),
                          "VIDEOS_API_URL": "http://127.0.0.1:1"},
        "videos-web": {"WEB_ROOT": os.path.join(REPO, "web"),
                       "PLAYLISTS_API_URL": "http://127.0.0.1:1"},
    }
    return {name: summary([time_to_ready(os.path.join(bin_dir, name, name), env)
                           for _ in range(runs)])
            for name, env in services.items()}


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    runs = int(sys.argv[4]) if len(sys.argv) == 5 else 20
    print(json.dumps(measure_all(*sys.argv[1:4], runs=runs), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
