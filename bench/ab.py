#!/usr/bin/env python3
"""A/B benchmark of two builds of the services: playlists-api GET / at 128 connections, the
scenario of bench/run.sh (seeded playlists: 4 playlists, 9 videos; THREADS=nproc, LOG_LEVEL=warn,
LOG_FORMAT=json; wrk -t2 -c128 with bench/report.lua; a 1 s warm-up at 1 connection; fresh
videos-api and playlists-api for every run, one pair of seeded Redis servers for all runs).

Rounds alternate the order (A B, B A, A B, ...) so that drift of the host hits both builds.
Hold the machine lock around it:

    flock /tmp/meshdemo-machine.lock python3 bench/ab.py \
        --a base=BUILD_A/services --b trial=BUILD_B/services --rounds 6 --seconds 15

Each --a/--b is NAME=DIR with DIR/<service>/<service>. Prints one line per run and a summary
(medians, % difference of B against A); --json FILE saves every run.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
# The benchmark's own helpers: ports, processes, /proc readings, wrk's command and its result.
from bench import parse_wrk, wrk_command  # noqa: E402
from processes import (Ports, answers_200, children, children_cpu_seconds, cpu_seconds,  # noqa: E402
                       load_average, machine_busy_seconds, peak_rss_kb, reset_peak_rss,
                       stop_process, wait_until)


class Bench:
    def __init__(self, args, run_dir):
        self.args = args
        self.run_dir = run_dir
        self.ports_in_use = Ports()
        self.processes = []
        self.redis = {}

    def start_redis(self, database):
        port = self.ports_in_use.one()
        log = open(os.path.join(self.run_dir, f"redis-{database}.log"), "w")
        script = subprocess.Popen([os.path.join(REPO, "deploy/seed/redis-seeded.sh"), database,
                                   str(port)], env=dict(os.environ, RUN_DIR=self.run_dir),
                                  stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(script)
        ping = ["redis-cli", "-p", str(port), "ping"]
        wait_until(lambda: subprocess.run(ping, capture_output=True).returncode == 0, script,
                   f"redis {database}", 10)
        self.redis[database] = (port, children(script.pid)[0])

    def start_service(self, bin_dir, name, port, admin, tag):
        env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "PORT": str(port),
               "ADMIN_PORT": str(admin), "BIND_ADDRESS": "127.0.0.1",
               "THREADS": str(self.args.threads), "LOG_LEVEL": "warn", "LOG_FORMAT": "json",
               "SHUTDOWN_GRACE_MS": "2000", "REDIS_HOST": "127.0.0.1"}
        if name == "videos-api":
            env["REDIS_PORT"] = str(self.redis["videos-db"][0])
        else:
            env["REDIS_PORT"] = str(self.redis["playlists-db"][0])
            env["VIDEOS_API_URL"] = f"http://127.0.0.1:{self.ports['videos-api']}"
        log = open(os.path.join(self.run_dir, f"{name}-{tag}.log"), "w")
        process = subprocess.Popen([os.path.join(bin_dir, name, name)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        wait_until(lambda: answers_200(f"http://127.0.0.1:{admin}/readyz"), process, name, 15)
        return process

    def wrk(self, url, connections, seconds, out):
        result = subprocess.run(wrk_command(url, connections, seconds), capture_output=True,
                                text=True)
        with open(out, "w") as f:
            f.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"wrk failed: {result.stdout}{result.stderr}")
        return parse_wrk(result.stdout)

    def run_one(self, variant, bin_dir, tag):
        self.ports = {"videos-api": self.ports_in_use.one(), "playlists-api": self.ports_in_use.one()}
        admins = {"videos-api": self.ports_in_use.one(), "playlists-api": self.ports_in_use.one()}
        services = {}
        try:
            for name in ("videos-api", "playlists-api"):
                services[name] = self.start_service(bin_dir, name, self.ports[name], admins[name], tag)
            url = f"http://127.0.0.1:{self.ports['playlists-api']}/"
            with urllib.request.urlopen(url, timeout=5) as answer:
                catalog = json.load(answer)
                assert answer.headers["X-Videos-Total"] == "9", answer.headers
                assert answer.headers["X-Videos-Omitted"] == "0", answer.headers
            assert len(catalog) == 4 and sum(len(p["videos"]) for p in catalog) == 9
            self.wrk(url, 1, 1, os.path.join(self.run_dir, f"warmup-{tag}.txt"))
            pids = {"pl": services["playlists-api"].pid, "vid": services["videos-api"].pid,
                    "rpl": self.redis["playlists-db"][1], "rvid": self.redis["videos-db"][1]}
            reset_peak_rss([pids["pl"], pids["vid"]])
            before = {k: cpu_seconds([p]) for k, p in pids.items()}
            busy_before, wrk_before = machine_busy_seconds(), children_cpu_seconds()
            result = self.wrk(url, self.args.connections, self.args.seconds,
                              os.path.join(self.run_dir, f"wrk-{tag}.txt"))
            cpu = {k: cpu_seconds([p]) - before[k] for k, p in pids.items()}
            wrk_cpu = children_cpu_seconds() - wrk_before
            others = machine_busy_seconds() - busy_before - sum(cpu.values()) - wrk_cpu
            # What the rest of the machine used meanwhile, in cores: a run with much of it is noise.
            result["others_cores"] = others / result["seconds"]
            result.update(variant=variant, tag=tag, cpu_s=cpu, cpu_total_s=sum(cpu.values()),
                          p99_us=result["latency_us"]["p99"],
                          rss_pl_kb=peak_rss_kb([pids["pl"]]), rss_vid_kb=peak_rss_kb([pids["vid"]]))
            result["cpu_us_per_request"] = result["cpu_total_s"] * 1e6 / result["requests"]
            result["errors"] = sum(result["socket_errors"].values())
            return result
        finally:
            for name in ("playlists-api", "videos-api"):
                if name in services:
                    stop_process(services[name], 10)

    def close(self):
        for process in reversed(self.processes):
            for child in children(process.pid):
                try:
                    os.kill(child, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            stop_process(process, 10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--a", required=True, help="NAME=DIR of the baseline build")
    parser.add_argument("--b", required=True, help="NAME=DIR of the build to compare")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", help="file to save every run in")
    parser.add_argument("--quiet", type=float, default=0.1,
                        help="a round counts as clean when others' CPU stays at or below this (cores)")
    args = parser.parse_args()
    variants = [tuple(v.split("=", 1)) for v in (args.a, args.b)]
    run_dir = tempfile.mkdtemp(prefix="meshdemo-ab.")
    bench = Bench(args, run_dir)
    runs = []
    load_before = load_average()
    try:
        bench.start_redis("playlists-db")
        bench.start_redis("videos-db")
        for r in range(args.rounds):
            order = variants if r % 2 == 0 else variants[::-1]
            for name, bin_dir in order:
                result = bench.run_one(name, bin_dir, f"{r + 1}-{name}")
                runs.append(result)
                print(f"round {r + 1} {name:>6}: {result['rps']:8.0f} answers/s  p99 "
                      f"{result['p99_us'] / 1000:5.1f} ms  CPU {result['cpu_us_per_request']:6.1f} µs/answer  "
                      f"RSS pl {result['rss_pl_kb'] / 1024:4.1f} MB vid {result['rss_vid_kb'] / 1024:4.1f} MB  "
                      f"errors {result['errors']:.0f} non2xx {result['non2xx']:.0f} partial {result['partial']:.0f}  "
                      f"others' CPU {result['others_cores']:.2f} cores",
                      flush=True)
    finally:
        bench.close()
        subprocess.run(["rm", "-rf", run_dir])
    load_after = load_average()
    print(f"\nload average before {load_before}, after {load_after}")
    a, b = variants[0][0], variants[1][0]
    summarize(runs, a, b, args.rounds, "all rounds")
    clean_rounds = [r for r in range(args.rounds)
                    if all(x["others_cores"] <= args.quiet for x in runs if x["tag"].startswith(f"{r + 1}-"))]
    print(f"\nclean rounds (others' CPU <= {args.quiet} cores in both runs): {[r + 1 for r in clean_rounds]}")
    if clean_rounds:
        summarize([x for x in runs if int(x["tag"].split("-")[0]) - 1 in clean_rounds], a, b,
                  len(clean_rounds), "clean rounds", [r + 1 for r in clean_rounds])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "load_before": load_before, "load_after": load_after}, f, indent=1)


def summarize(runs, a, b, rounds, title, round_numbers=None):
    print(f"\n{title}:")
    round_numbers = round_numbers or list(range(1, rounds + 1))
    for field, label in (("rps", "answers/s"), ("p99_us", "p99 µs"),
                         ("cpu_us_per_request", "CPU µs per answer (services + redis)"),
                         ("rss_pl_kb", "peak RSS playlists-api kB"), ("rss_vid_kb", "peak RSS videos-api kB")):
        ma = statistics.median(x[field] for x in runs if x["variant"] == a)
        mb = statistics.median(x[field] for x in runs if x["variant"] == b)
        print(f"{label:40s} {a} {ma:10.1f}   {b} {mb:10.1f}   {100 * (mb - ma) / ma:+6.2f}%")
    # Paired by round: B's rps relative to A's in the same round, which cancels drift between rounds.
    for field in ("rps", "cpu_us_per_request"):
        pairs = []
        for r in round_numbers:
            ra = next(x for x in runs if x["variant"] == a and x["tag"].startswith(f"{r}-"))
            rb = next(x for x in runs if x["variant"] == b and x["tag"].startswith(f"{r}-"))
            pairs.append(100 * (rb[field] - ra[field]) / ra[field])
        print(f"paired {field} difference per round ({b} vs {a}): {', '.join(f'{p:+.2f}%' for p in pairs)}; "
              f"median {statistics.median(pairs):+.2f}%")


if __name__ == "__main__":
    sys.exit(main())
