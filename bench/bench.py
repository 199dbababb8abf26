#!/usr/bin/env python3
"""The benchmark: measures the services on loopback and writes the run as JSON, then the report.

Run through bench/run.sh, which installs the tools, builds and picks the profiler first (see
bench/README.md for the settings). Everything it starts is stopped by PID when it ends, fails or
is interrupted. Writes bench/results/<UTC time>-<commit>.json and renders bench/RESULTS.md from
it with bench/render.py.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

import profilers
import render
import startup
from processes import (BenchError, Ports, Processes, answers_200, children, children_cpu_seconds,
                       command_line, cpu_seconds, descendants, executable_name, http_get,
                       load_average, machine_busy_seconds, peak_rss_kb, reset_peak_rss, wait_until)

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
SERVICES = ("videos-api", "playlists-api", "videos-web")
DATABASES = ("playlists-db", "videos-db")
CONNECTIONS = (1, 16, 128, 1000)
GROWTH_SIZES = (1, 10, 100, 1000)
GROWTH_CONNECTIONS = (1, 16)
THREAD_COUNTS = (1, 2)
PASSTHROUGH = ("FANOUT_LIMIT", "VIDEOS_API_CONNECTIONS", "VIDEOS_API_TIMEOUT_MS")
SHOWN_SETTINGS = ("BENCH_SECONDS", "BENCH_WAIT_QUIET", "BENCH_QUIET_LOAD", "BENCH_BUILD",
                  "BENCH_PROFILER", "BENCH_PROFILE_SECONDS", "THREADS") + PASSTHROUGH
VIDEO_ID, VIDEO_TITLE = "jM36M39MA3I", "Kubernetes cluster autoscaling"
SEED_PLAYLISTS, SEED_VIDEOS = 4, 9

# What each scenario starts and which processes' CPU and memory it counts.
SCENARIOS = {
    "vid": (("videos-api",), ("videos-api", "videos-db")),
    "pl": (("videos-api", "playlists-api"), ("playlists-api", "videos-api") + DATABASES),
    "web": (("videos-web",), ("videos-web",)),
    "webapi": (SERVICES, ("videos-web", "playlists-api", "videos-api") + DATABASES),
}


def say(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Config:
    """Represents the run's settings, from the environment (bench/README.md lists them)."""

    def __init__(self, env):
        self.seconds = int(env.get("BENCH_SECONDS") or 10)
        self.wait_quiet = int(env.get("BENCH_WAIT_QUIET") or 0)
        self.quiet_load = float(env.get("BENCH_QUIET_LOAD") or 0.8)
        self.profiler = env.get("BENCH_PROFILER_CHOSEN") or env.get("BENCH_PROFILER") or "none"
        self.profile_seconds = int(env.get("BENCH_PROFILE_SECONDS") or 15)
        self.threads = int(env.get("THREADS") or os.cpu_count())
        self.keep = env.get("BENCH_KEEP") == "1"
        self.built = env.get("BENCH_BUILD", "1") != "0"
        self.report_path = env.get("BENCH_RESULTS") or os.path.join(BENCH_DIR, "RESULTS.md")
        self.data_dir = env.get("BENCH_DATA") or os.path.join(BENCH_DIR, "results")
        self.passthrough = {name: env[name] for name in PASSTHROUGH if env.get(name)}
        self.command = " ".join([f"{name}={env[name]}" for name in SHOWN_SETTINGS if env.get(name)]
                                + ["bench/run.sh"])
        self.path = env.get("PATH", "/usr/bin:/bin")


class Bench:
    """Represents one run: its processes, ports, and the measurements taken so far."""

    def __init__(self, config, run_dir):
        self.config = config
        self.run_dir = run_dir
        self.bin_dir = os.path.join(run_dir, "bin")
        self.processes = Processes(run_dir)
        self.ports = Ports()
        self.service_port = dict(zip(SERVICES, self.ports.block(3)))
        # One block, in the launcher's order: videos-web, playlists-api, videos-api.
        admin = self.ports.block(3)
        self.admin_port = {"videos-web": admin[0], "playlists-api": admin[1], "videos-api": admin[2]}
        self.nginx_port = self.ports.one()
        self.redis = {}  # database -> (port, script process, redis-server PID)
        self.service = {}  # name -> process, for services started here
        self.catalog = None  # the launcher's process while the full catalog runs
        self.catalog_pids = {}  # label -> PID inside the launcher's catalog
        self.nginx = None
        self.ceiling_body = b""  # playlists-api's answer, which nginx serves as a file
        self.runs = {}

    # -----------------------------------------------------------------------------------------
    # Binaries and Redis.

    def copy_binaries(self):
        """A copy: others rebuilding build/release during the run cannot swap binaries under us."""
        for name in SERVICES:
            built = os.path.join(REPO, "build", "release", "services", name, name)
            if not os.access(built, os.X_OK):
                raise BenchError(f"{built} is missing (run without BENCH_BUILD=0)")
            os.makedirs(os.path.join(self.bin_dir, name))
            shutil.copy2(built, os.path.join(self.bin_dir, name, name))

    def start_redis(self, database):
        port = self.ports.one()
        script = self.processes.start(
            [os.path.join(REPO, "deploy", "seed", "redis-seeded.sh"), database, str(port)],
            dict(os.environ, RUN_DIR=self.run_dir), f"redis-{database}.log")
        wait_until(lambda: self.redis_answers(port), script, f"redis {database}", 10,
                   self.processes.log_path(f"redis-{database}.log"))
        self.redis[database] = (port, script, children(script.pid)[0])

    def redis_answers(self, port):
        ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True)
        return ping.stdout.strip() == "PONG"

    def redis_cli(self, database, *args, data=None):
        command = ["redis-cli", "-p", str(self.redis[database][0]), *args]
        done = subprocess.run(command, input=data, capture_output=True, check=True)
        return done.stdout

    def stop_redis(self):
        for port, script, pid in self.redis.values():
            try:
                os.kill(pid, signal.SIGTERM)  # the script waits for it, then exits
            except ProcessLookupError:
                pass
            self.processes.stop(script)

    def load_synthetic_videos(self):
        """Keys syn-0001 .. syn-1000 in videos-db, shaped like the seed's videos."""
        commands = b"".join(resp("SET", f"syn-{i:04d}", json.dumps(synthetic_video(i)))
                            for i in range(1, 1001))
        self.redis_cli("videos-db", "--pipe", data=commands)
        if int(self.redis_cli("videos-db", "dbsize")) < 1009:
            raise BenchError("synthetic videos not loaded")

    def set_playlists(self, value):
        self.redis_cli("playlists-db", "-x", "SET", "playlists", data=value)

    def synthetic_playlist(self, n):
        videos = [{"id": f"syn-{i:04d}"} for i in range(1, n + 1)]
        return json.dumps([{"id": "1", "name": f"Synthetic {n}", "videos": videos}]).encode()

    # -----------------------------------------------------------------------------------------
    # Services, the catalog, nginx.

    def base_env(self, threads, level):
        return {"PATH": self.config.path, "HOME": os.environ.get("HOME", "/tmp"),
                "BIND_ADDRESS": "127.0.0.1", "THREADS": str(threads), "LOG_LEVEL": level,
                "LOG_FORMAT": "json", "SHUTDOWN_GRACE_MS": "2000"}

    def wiring(self, name):
        """How a service started here finds its database and its peer."""
        if name == "videos-api":
            return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis["videos-db"][0])}
        if name == "playlists-api":
            return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis["playlists-db"][0]),
                    "VIDEOS_API_URL": f"http://127.0.0.1:{self.service_port['videos-api']}",
                    **self.config.passthrough}
        return {"PLAYLISTS_API_URL": f"http://127.0.0.1:{self.service_port['playlists-api']}",
                "WEB_ROOT": os.path.join(REPO, "web")}

    def start_service(self, name, threads, level, tag, extra=None, wrapper=(), ready_seconds=15):
        # A clean environment: a FLAKY or LATENCY_MS left in the caller's shell must not skew
        # the numbers.
        env = {**self.base_env(threads, level), **self.wiring(name), **(extra or {}),
               "PORT": str(self.service_port[name]), "ADMIN_PORT": str(self.admin_port[name])}
        log = f"{name}-{tag}.log"
        process = self.processes.start([*wrapper, os.path.join(self.bin_dir, name, name)], env, log)
        self.service[name] = process
        readyz = f"http://127.0.0.1:{self.admin_port[name]}/readyz"
        wait_until(lambda: answers_200(readyz), process, name, ready_seconds,
                   self.processes.log_path(log))

    def stop_service(self, name, grace=10):
        process = self.service.pop(name, None)
        if process:
            self.processes.stop(process, grace)

    def stop_services(self):
        for name in ("videos-web", "playlists-api", "videos-api"):
            self.stop_service(name)
        self.stop_catalog()

    def start_catalog(self, threads, level, tag):
        """The full catalog through the project's one launcher, with its own seeded Redis."""
        launcher = os.path.join(REPO, "scripts", "run.sh")
        db_ports = self.ports.block(2)
        env = {**self.base_env(threads, level), **self.config.passthrough,
               "WEB_PORT": str(self.service_port["videos-web"]),
               "PLAYLISTS_API_PORT": str(self.service_port["playlists-api"]),
               "VIDEOS_API_PORT": str(self.service_port["videos-api"]),
               "PLAYLISTS_DB_PORT": str(db_ports[0]), "VIDEOS_DB_PORT": str(db_ports[1]),
               "ADMIN_PORT_BASE": str(self.admin_port["videos-web"])}
        log = f"catalog-{tag}.log"
        self.catalog = self.processes.start([launcher, "--bin", self.bin_dir], env, log)
        wait_until(lambda: self.catalog_running(log), self.catalog, "the catalog (scripts/run.sh)",
                   30, self.processes.log_path(log))
        self.catalog_pids = self.find_catalog_pids()

    def catalog_running(self, log):
        with open(self.processes.log_path(log), errors="replace") as f:
            return any(line.startswith("The catalog is running") for line in f)

    def find_catalog_pids(self):
        """The services' and Redis servers' PIDs among the launcher's descendants."""
        found = {}
        for pid in descendants(self.catalog.pid):
            name = executable_name(pid)
            if name in SERVICES:
                found[name] = pid
            # redis-server rewrites its command line: know it by its seeding script's.
            words = command_line(pid).split()
            for database in DATABASES:
                if any(w.endswith("redis-seeded.sh") for w in words) and database in words:
                    found.update({database: child for child in children(pid)
                                  if executable_name(child) == "redis-server"})
        missing = set(SERVICES + DATABASES) - set(found)
        if missing:
            raise BenchError(f"the catalog's processes not found: {', '.join(sorted(missing))}")
        return found

    def stop_catalog(self):
        if self.catalog:
            self.processes.stop(self.catalog, 30)
            self.catalog, self.catalog_pids = None, {}

    def start_nginx(self, workers):
        os.makedirs(os.path.join(self.run_dir, "nginx-tmp"), exist_ok=True)
        with open(os.path.join(BENCH_DIR, "nginx.conf.in")) as f:
            conf = (f.read().replace("@WORKERS@", str(workers)).replace("@RUN@", self.run_dir)
                    .replace("@PORT@", str(self.nginx_port)))
        conf_path = os.path.join(self.run_dir, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = self.processes.start(
            [nginx, "-p", self.run_dir, "-c", conf_path, "-e", f"{self.run_dir}/nginx-error.log",
             "-g", "daemon off; master_process on;"], dict(os.environ), "nginx.log")
        wait_until(lambda: answers_200(self.ceiling_url()), self.nginx, "nginx", 10,
                   f"{self.run_dir}/nginx-error.log")

    def stop_nginx(self):
        if self.nginx:
            self.processes.stop(self.nginx)
            self.nginx = None

    def pids_of(self, label):
        if label == "nginx":
            return [self.nginx.pid] + children(self.nginx.pid)
        if label in self.catalog_pids:
            return [self.catalog_pids[label]]
        if label in self.redis:
            return [self.redis[label][2]]
        return [self.service[label].pid]

    # -----------------------------------------------------------------------------------------
    # URLs and checks of the answers.

    def url(self, scenario):
        port = self.service_port
        return {"vid": f"http://127.0.0.1:{port['videos-api']}/{VIDEO_ID}",
                "pl": f"http://127.0.0.1:{port['playlists-api']}/",
                "web": f"http://127.0.0.1:{port['videos-web']}/",
                "webapi": f"http://127.0.0.1:{port['videos-web']}/api/playlists"}[scenario]

    def ceiling_url(self):
        return f"http://127.0.0.1:{self.nginx_port}/playlists.json"

    def check(self, scenario, playlists=SEED_PLAYLISTS, videos=SEED_VIDEOS):
        url = self.url(scenario)
        if scenario == "vid":
            return check_video(url)
        if scenario == "web":
            with open(os.path.join(REPO, "web", "index.html"), "rb") as f:
                return check_same_body(url, f.read())
        return check_catalog(url, playlists, videos)

    # -----------------------------------------------------------------------------------------
    # Measuring.

    def wrk(self, url, connections, seconds, name, extra=()):
        """One wrk run with bench/report.lua; returns its BENCH line as numbers."""
        out = os.path.join(self.run_dir, f"wrk-{name}.txt")
        with open(out, "w") as f:
            done = subprocess.run(wrk_command(url, connections, seconds, extra), stdout=f,
                                  stderr=subprocess.STDOUT)
        with open(out) as f:
            text = f.read()
        if done.returncode != 0:
            raise BenchError(f"wrk failed: {text}")
        return parse_wrk(text)

    def warm_up(self, url, connections):
        """1 s at the first connection count to be measured: a busier warm-up would leave
        memory behind and raise the peak RSS of the quieter runs that follow."""
        self.wrk(url, connections, 1, "warmup")

    def measure(self, key, url, connections, labels, **fields):
        pids = {label: self.pids_of(label) for label in labels}
        for label_pids in pids.values():
            reset_peak_rss(label_pids)
        before = {label: cpu_seconds(label_pids) for label, label_pids in pids.items()}
        busy, wrk_before = machine_busy_seconds(), children_cpu_seconds()
        say(f"measure {key}: {connections} connections, {self.config.seconds}s, {url}")
        result = self.wrk(url, connections, self.config.seconds, key)
        cpu = {label: cpu_seconds(pids[label]) - before[label] for label in labels}
        cpu["wrk"] = children_cpu_seconds() - wrk_before
        cpu["others"] = machine_busy_seconds() - busy - sum(cpu.values())
        run = {"connections": connections, **fields, **result, "cpu_s": cpu,
               "peak_rss_kb": {label: peak_rss_kb(label_pids) for label, label_pids in pids.items()}}
        self.runs[key] = run
        errors = sum(run["socket_errors"].values())
        say(f"  {run['rps']:.0f} req/s, p99 {run['latency_us']['p99'] / 1000:.1f} ms, socket errors "
            f"{errors}, non-2xx {run['non2xx']}, partial {run['partial']}")
        return run

    # -----------------------------------------------------------------------------------------
    # Phases.

    def start_scenario(self, scenario, threads, level, tag):
        if scenario == "webapi":
            self.start_catalog(threads, level, tag)
        else:
            for name in SCENARIOS[scenario][0]:
                self.start_service(name, threads, level, tag)

    def scenario_run(self, prefix, scenario, threads, level, connection_counts):
        """Fresh services for each scenario, so that each peak RSS is that scenario's own."""
        self.start_scenario(scenario, threads, level, f"{prefix}-{scenario}")
        self.check(scenario)
        url = self.url(scenario)
        self.warm_up(url, connection_counts[0])
        for c in connection_counts:
            self.measure(f"{prefix}.{scenario}.{c}", url, c, SCENARIOS[scenario][1],
                         scenario=scenario, threads=threads, log_level=level)
        self.stop_services()

    def ceiling_runs(self, prefix, workers, connection_counts):
        self.start_nginx(workers)
        check_same_body(self.ceiling_url(), self.ceiling_body)
        self.warm_up(self.ceiling_url(), connection_counts[0])
        for c in connection_counts:
            self.measure(f"{prefix}.ngx.{c}", self.ceiling_url(), c, ("nginx",), scenario="ngx",
                         threads=workers, log_level="warn")
        self.stop_nginx()

    def phase_scenarios(self):
        threads = self.config.threads
        say(f"phase 1: scenarios at THREADS={threads}")
        self.start_catalog(threads, "warn", "check")
        for scenario in ("vid", "pl", "web", "webapi"):
            self.check(scenario)
        self.ceiling_body = check_catalog(self.url("pl"), SEED_PLAYLISTS, SEED_VIDEOS)
        self.stop_catalog()
        www = os.path.join(self.run_dir, "www")
        os.makedirs(www)
        with open(os.path.join(www, "playlists.json"), "wb") as f:
            f.write(self.ceiling_body)
        os.chmod(os.path.join(www, "playlists.json"), 0o644)
        self.ceiling_runs("main", threads, CONNECTIONS)
        for scenario in ("vid", "pl", "web", "webapi"):
            self.scenario_run("main", scenario, threads, "warn", CONNECTIONS)

    def phase_logs(self):
        say("phase 2: LOG_LEVEL=info")
        self.scenario_run("info", "pl", self.config.threads, "info", (16,))
        logs = [self.processes.log_path(f"{name}-info-pl.log") for name in ("playlists-api", "videos-api")]
        self.runs["info.pl.16"]["log_bytes"] = sum(os.path.getsize(path) for path in logs)

    def phase_threads(self):
        say("phase 3: threads")
        for n in THREAD_COUNTS:
            if n == self.config.threads:
                continue
            self.ceiling_runs(f"t{n}", n, (16, 128))
            self.scenario_run(f"t{n}", "vid", n, "warn", (16, 128))
            self.scenario_run(f"t{n}", "pl", n, "warn", (16, 128))

    def phase_growth(self):
        say("phase 4: fan-out growth")
        seed = self.redis_cli("playlists-db", "GET", "playlists").rstrip(b"\n")
        for n in GROWTH_SIZES:
            self.set_playlists(self.synthetic_playlist(n))
            for name in ("videos-api", "playlists-api"):
                self.start_service(name, self.config.threads, "warn", f"grow-{n}")
            check_catalog(self.url("pl"), 1, n)
            self.warm_up(self.url("pl"), GROWTH_CONNECTIONS[0])
            for c in GROWTH_CONNECTIONS:
                self.measure(f"grow.{n}.{c}", self.url("pl"), c, SCENARIOS["pl"][1], scenario="pl",
                             threads=self.config.threads, log_level="warn", videos=n)
            self.stop_services()
        self.set_playlists(seed)

    def phase_startup(self):
        say("start-up times")
        return startup.measure_all(self.bin_dir, self.redis["playlists-db"][0],
                                   self.redis["videos-db"][0])

    # -----------------------------------------------------------------------------------------
    # Profiling playlists-api: callgrind counts user-space instructions exactly; perf samples
    # (cpu-clock where the machine has no hardware counters) add the kernel's share.

    def phase_profile(self):
        profiler = self.config.profiler
        result = {"profiler": profiler, "seconds": self.config.profile_seconds}
        if profiler == "none":
            return result
        say(f"phase 5: profiling playlists-api ({profiler})")
        self.start_service("videos-api", self.config.threads, "warn", "profile")
        if profiler == "callgrind":
            result["callgrind"] = self.profile_with_callgrind()
            if perf_record_works(self.run_dir):
                result["perf"] = self.profile_with_perf("cpu-clock")
        else:
            result["perf"] = self.profile_with_perf(None)
        self.stop_services()
        return result

    def profile_with_callgrind(self):
        out = os.path.join(self.run_dir, "callgrind.out")
        wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]
        self.start_service("playlists-api", 1, "warn", "callgrind", wrapper=wrapper, ready_seconds=120,
                           extra={"VIDEOS_API_TIMEOUT_MS": "20000", "READ_TIMEOUT_MS": "60000"})
        self.check("pl")
        # Zero the counters so that start-up is left out; harmless if callgrind_control cannot.
        subprocess.run(["callgrind_control", "-z", str(self.service["playlists-api"].pid)],
                       capture_output=True)
        load = self.wrk(self.url("pl"), 4, self.config.profile_seconds, "callgrind",
                        ("--timeout", "20s"))
        self.stop_service("playlists-api", 120)  # callgrind writes its profile on exit
        self_text = callgrind_annotate(out, inclusive=False)
        inclusive_text = callgrind_annotate(out, inclusive=True)
        return {"threads": 1, "connections": 4, "requests": load["requests"],
                "total_ir": profilers.callgrind_total(self_text),
                "self": profilers.callgrind_rows(self_text, 30),
                "inclusive": profilers.callgrind_rows(inclusive_text, 45)}

    def profile_with_perf(self, event):
        threads, seconds = self.config.threads, self.config.profile_seconds
        self.start_service("playlists-api", threads, "warn", "perf")
        self.check("pl")
        out = os.path.join(self.run_dir, "wrk-perf.txt")
        with open(out, "w") as f:
            load = subprocess.Popen(wrk_command(self.url("pl"), 16, seconds), stdout=f,
                                    stderr=subprocess.STDOUT)
        self.processes.started.append(load)
        time.sleep(1)
        data = os.path.join(self.run_dir, "perf.data")
        record = ["perf", "record", *(["-e", event] if event else []), "-g", "-o", data,
                  "-p", str(self.service["playlists-api"].pid), "--", "sleep", str(seconds - 2)]
        done = subprocess.run(record, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"perf record failed: {done.stderr}")
        if load.wait() != 0:
            raise BenchError("the load during profiling failed")
        self.processes.started.remove(load)
        self.stop_service("playlists-api")
        with open(out) as f:
            rps = parse_wrk(f.read())["rps"]
        return {"event": event, "threads": threads, "connections": 16, "rps": rps,
                "dso": profilers.perf_rows(perf_report(data, "dso"), 8),
                "symbols": profilers.perf_rows(perf_report(data, "dso,symbol"), 30)}


# ---------------------------------------------------------------------------------------------
# Helpers without state.

def resp(*args):
    """A Redis command in the protocol's own form, for redis-cli --pipe."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def synthetic_video(i):
    return {"id": f"syn-{i:04d}", "title": f"Synthetic video {i}",
            "imageurl": f"https://i.ytimg.com/vi/syn-{i:04d}/sddefault.jpg",
            "url": f"https://youtu.be/syn-{i:04d}", "description": ""}


def get_ok(url):
    status, headers, body = http_get(url)
    if status != 200:
        raise BenchError(f"{url} answered {status}")
    return headers, body


def check_video(url):
    _, body = get_ok(url)
    video = json.loads(body)
    if video.get("id") != VIDEO_ID or video.get("title") != VIDEO_TITLE:
        raise BenchError(f"{url}: unexpected {body[:300]!r}")
    return body


def check_catalog(url, playlists, videos):
    """A 200 with that many playlists and complete videos, none omitted; returns the body."""
    headers, body = get_ok(url)
    answer = json.loads(body)
    found = [video for playlist in answer for video in playlist["videos"]]
    complete = all(isinstance(v.get("title"), str) and isinstance(v.get("url"), str) for v in found)
    if len(answer) != playlists or len(found) != videos or not complete:
        raise BenchError(f"{url}: expected {playlists} playlists and {videos} videos, "
                         f"got {body[:300]!r}")
    counted = (headers.get("X-Videos-Total"), headers.get("X-Videos-Omitted"))
    if counted != (str(videos), "0"):
        raise BenchError(f"{url}: X-Videos-Total/Omitted are {counted[0]}/{counted[1]}")
    return body


def check_same_body(url, expected):
    _, body = get_ok(url)
    if body != expected:
        raise BenchError(f"{url} does not answer the expected content")
    return body


def wrk_command(url, connections, seconds, extra=()):
    threads = 2 if connections >= 2 else 1
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "-s", os.path.join(BENCH_DIR, "report.lua"), *extra, url]


def parse_wrk(text):
    """report.lua's BENCH line as a run's fields."""
    line = next((line for line in text.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise BenchError(f"no result from wrk: {text}")
    v = {key: float(value) for key, value in (kv.split("=") for kv in line.split()[1:])}
    count = lambda key: int(v[key])
    return {"requests": count("requests"), "seconds": v["seconds"], "rps": v["rps"],
            "bytes": count("bytes"),
            "latency_us": {p: count(f"{p}_us") for p in ("p50", "p90", "p99", "p999", "max")},
            "socket_errors": {e: count(e) for e in ("connect", "read", "write", "timeout")},
            "non2xx": count("non2xx"), "partial": count("partial")}


def perf_record_works(run_dir):
    test = os.path.join(run_dir, "perf-test.data")
    return subprocess.run(["perf", "record", "-e", "cpu-clock", "-o", test, "true"],
                          capture_output=True).returncode == 0


def perf_report(data, sort):
    return subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
                           "--sort", sort], capture_output=True, text=True).stdout


def callgrind_annotate(out, inclusive):
    flag = "--inclusive=yes" if inclusive else "--inclusive=no"
    return subprocess.run(["callgrind_annotate", flag, "--threshold=100", out],
                          capture_output=True, text=True).stdout


# ---------------------------------------------------------------------------------------------
# What was measured, where, with what.

def first_line(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True)
        return (done.stdout or done.stderr).splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def tool_versions():
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return {"wrk": first_line(["wrk", "-v"]).split()[1],
            "nginx": first_line([nginx, "-v"]).rsplit("/", 1)[-1],
            "redis": first_line(["redis-server", "--version"]).split()[2].removeprefix("v="),
            "cmake": first_line(["cmake", "--version"]).split()[-1]}


def machine():
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    with open("/proc/meminfo") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(kb / 1048576, 1),
            "kernel": os.uname().release}


def git(*args):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout


def source_state(bin_dir, built):
    """The commit, the C++ files changed in the working tree, and when the binaries were built."""
    state = git("describe", "--always", "--dirty").strip() or "unknown"
    changed = [line[3:] for line in git("status", "--porcelain", "--", "common", "services",
                                        "CMakeLists.txt").splitlines()]
    if changed:
        state += f"; working tree with uncommitted changes to: {' '.join(changed)}"
    mtime = os.path.getmtime(os.path.join(bin_dir, "playlists-api", "playlists-api"))
    state += f"; binaries built {datetime.fromtimestamp(mtime, timezone.utc):%Y-%m-%d %H:%M} UTC"
    return state + ("" if built else ", taken as found (BENCH_BUILD=0)")


def wait_for_quiet(config):
    waited = 0
    while float(load_average().split()[0]) >= config.quiet_load:
        if waited >= config.wait_quiet:
            say(f"the machine did not get quiet (load {load_average()}): measuring anyway")
            return
        say(f"waiting for a quiet machine: load {load_average()}")
        time.sleep(30)
        waited += 30


# ---------------------------------------------------------------------------------------------
# The run.

def run(config, bench):
    bench.copy_binaries()
    state = source_state(bench.bin_dir, config.built)
    if config.wait_quiet > 0:
        wait_for_quiet(config)
    load_before, started, clock = load_average(), datetime.now(timezone.utc), time.monotonic()
    say(f"starting redis (playlists-db, videos-db) in {bench.run_dir}")
    for database in DATABASES:
        bench.start_redis(database)
    bench.load_synthetic_videos()
    bench.phase_scenarios()
    bench.phase_logs()
    bench.phase_threads()
    bench.phase_growth()
    profile_data = bench.phase_profile()
    startup_data = bench.phase_startup()
    return {
        "format": 1,
        "command": config.command,
        "started_at": f"{started:%Y-%m-%d %H:%M} UTC",
        "elapsed_s": round(time.monotonic() - clock),
        "machine": machine(),
        "load": {"before": load_before, "after": load_average(), "quiet_limit": config.quiet_load},
        "tools": tool_versions(),
        "source_state": state,
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "settings": {"threads": config.threads, "seconds": config.seconds, "log_level": "warn",
                     "log_format": "json",
                     "fanout_limit": int(config.passthrough.get("FANOUT_LIMIT", 32)),
                     "playlists_api_env": config.passthrough},
        "catalog_launcher": "scripts/run.sh --bin",
        "ceiling_bytes": len(bench.ceiling_body),
        "thread_counts": list(THREAD_COUNTS),
        "runs": bench.runs,
        "startup": startup_data,
        "profile": profile_data,
    }


def write_outputs(config, data):
    """The run's JSON, then the report rendered from it; returns both paths."""
    os.makedirs(config.data_dir, exist_ok=True)
    started = data["started_at"].replace(" UTC", "").replace(" ", "-").replace(":", "")
    data_path = os.path.join(config.data_dir, f"{started}-{data['commit']}.json")
    with open(data_path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
    text = render.render(data, data_path, os.path.join(BENCH_DIR, "FINDINGS.md"))
    with open(config.report_path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(config.report_path + ".tmp", config.report_path)
    return data_path


def main():
    config = Config(os.environ)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_dir = tempfile.mkdtemp(prefix="meshbench.")
    os.chmod(run_dir, 0o755)  # nginx workers may run as another user
    bench, failed = Bench(config, run_dir), True
    try:
        data = run(config, bench)
        failed = False
    except BenchError as error:
        say(f"FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        bench.stop_services()
        bench.stop_nginx()
        bench.stop_redis()
        bench.processes.stop_all()
        if config.keep or failed:
            say(f"temporary files kept in {run_dir}")
        else:
            shutil.rmtree(run_dir)
    data_path = write_outputs(config, data)
    for met, lines in render.targets(data):
        say(("met:     " if met else "NOT MET: ") + lines[0][2:].split(":")[0])
    say(f"data written to {data_path}, report to {config.report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
