#!/usr/bin/env python3
"""Renders the benchmark report (markdown) from one run's measurements.

    python3 bench/render.py [RUN_JSON] [--findings FILE] > bench/RESULTS.md

RUN_JSON is a file that bench/bench.py wrote (bench/results/<UTC time>-<commit>.json); without
it, the newest file in bench/results/. The hand-written findings (bench/FINDINGS.md unless
--findings says otherwise) are included as they are. Standard library only: no load, no network,
so a report can be re-rendered, and two runs compared, at any time.
"""
import argparse
import json
import os
import sys

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)

SERVICES = ("videos-web", "playlists-api", "videos-api")
REDIS = ("playlists-db", "videos-db")
SCENARIOS = {
    "ngx": "nginx static file (ceiling)",
    "vid": "videos-api GET /{id}",
    "pl": "playlists-api GET / (9 videos)",
    "web": "videos-web GET /",
    "webapi": "videos-web GET /api/playlists",
}
CONNECTIONS = (1, 16, 128, 1000)
GROWTH_CONNECTIONS = (1, 16)

# The targets (issue 2): playlists-api and videos-api against the ceiling, errors, memory.
PLAYLISTS_SHARE = 0.05
PLAYLISTS_P99_US = 25000
VIDEOS_SHARE = 0.60
RSS_LIMIT_KB = 15 * 1024


# ---------------------------------------------------------------------------------------------
# Numbers as the report shows them; "–" where a figure is missing.

def missing(*values):
    return any(v is None for v in values)


def ms(us):
    if missing(us):
        return "–"
    m = us / 1000
    digits = 3 if m < 1 else 2 if m < 10 else 1 if m < 100 else 0
    return f"{m:.{digits}f}"


def ratio(a, b):
    if missing(a, b) or b == 0:
        return "–"
    return f"{a / b:.2f}×" if a / b < 10 else f"{a / b:.0f}×"


def percent(a, b):
    if missing(a, b) or b == 0:
        return "–"
    return f"{100 * a / b:.1f}%"


def mb(kb):
    return "–" if missing(kb) else f"{kb / 1024:.1f}"


def fixed(value, digits=3):
    return "–" if missing(value) else f"{value:.{digits}f}"


def table(header, align, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Figures of one measured run (one wrk run: see bench/bench.py's measure()).

def per_1k(cpu_seconds, requests):
    """CPU seconds per 1000 requests."""
    if missing(cpu_seconds, requests) or requests == 0:
        return None
    return cpu_seconds / requests * 1000


def cpu(run, *labels):
    """CPU seconds of the named processes during the run; None if none of them was measured."""
    values = [run["cpu_s"][label] for label in labels if label in run["cpu_s"]]
    return sum(values) if values else None


def measured(run):
    """The measured processes: services, Redis servers, nginx (not wrk, not the rest)."""
    return [label for label in run["cpu_s"] if label not in ("wrk", "others")]


def cpu_per_1k(run, *labels):
    return per_1k(cpu(run, *(labels or measured(run))), run["requests"])


def socket_errors(run):
    return sum(run["socket_errors"].values())


def error_free(run):
    return socket_errors(run) == 0 and run["non2xx"] == 0 and run["partial"] == 0


def rss(run, label):
    return run["peak_rss_kb"].get(label)


def others_cores(run):
    return max(0.0, run["cpu_s"]["others"] / run["seconds"])


# ---------------------------------------------------------------------------------------------
# Targets: computed here, from the data, so that a re-rendered report judges them again.

class Report:
    """Represents one run's data with the look-ups the sections share."""

    def __init__(self, data):
        self.data = data
        self.runs = data["runs"]
        self.threads = data["settings"]["threads"]

    def run(self, key):
        return self.runs.get(key)

    def value(self, key, field):
        run = self.run(key)
        return None if run is None else run.get(field)

    def latency(self, key, which):
        run = self.run(key)
        return None if run is None else run["latency_us"].get(which)

    def threads_key(self, n):
        return "main" if n == self.threads else f"t{n}"


def verdict(ok):
    return "**met**" if ok else "**not met**"


def playlists_target(report):
    ok, details = True, []
    for c in (16, 128):
        run, ceiling = report.run(f"main.pl.{c}"), report.run(f"main.ngx.{c}")
        ok = ok and run["rps"] >= ceiling["rps"] * PLAYLISTS_SHARE and error_free(run)
        details.append(f" {c} conns: {percent(run['rps'], ceiling['rps'])} of the ceiling, "
                       f"{socket_errors(run)} socket errors, {run['non2xx']} non-2xx, "
                       f"{run['partial']} partial;")
    p99 = report.latency("main.pl.128", "p99")
    ok = ok and p99 < PLAYLISTS_P99_US
    line = ("- playlists-api GET / at 16 and 128 connections ≥ 5% of the ceiling, zero errors, "
            f"p99 at 128 < 25 ms: {verdict(ok)} —{''.join(details)} p99 at 128: {ms(p99)} ms.")
    return ok, [line] + [exchange_cost(report, c) for c in (16, 128)]


def exchange_cost(report, c):
    """All CPU per playlists answer over its 10 exchanges, against nginx's CPU per request."""
    answer = cpu_per_1k(report.run(f"main.pl.{c}"))
    request = cpu_per_1k(report.run(f"main.ngx.{c}"))
    return (f"  CPU per exchange at {c} connections (all CPU per answer / 10 exchanges): "
            f"{answer * 100:.1f} µs, {ratio(answer, request * 10)} nginx's CPU per request "
            "(the issue's budget: about 2×).")


def videos_target(report):
    ok, details = True, []
    for c in (16, 128):
        rps, ceiling = report.value(f"main.vid.{c}", "rps"), report.value(f"main.ngx.{c}", "rps")
        ok = ok and rps >= ceiling * VIDEOS_SHARE
        details.append(f" {c} conns: {percent(rps, ceiling)}")
    return ok, [f"- videos-api GET /{{id}} at 16 and 128 connections ≥ 60% of the ceiling: "
                f"{verdict(ok)} —{';'.join(details)}."]


def thousand_target(report):
    ok, details = True, []
    for scenario in ("vid", "pl", "web", "webapi"):
        run = report.run(f"main.{scenario}.1000")
        e = run["socket_errors"]
        ok = ok and error_free(run)
        details.append(f" {SCENARIOS[scenario]}: {socket_errors(run)} socket errors "
                       f"({e['connect']} connect, {e['read']} read, {e['write']} write, "
                       f"{e['timeout']} timeout), {run['non2xx']} non-2xx, {run['partial']} partial")
    return ok, [f"- 1000 connections, zero errors in every service: {verdict(ok)} —"
                f"{';'.join(details)}."]


def rss_target(report):
    largest, where = 0, ""
    for scenario in ("vid", "pl", "web", "webapi"):
        run = report.run(f"main.{scenario}.128")
        for label in SERVICES:
            kb = rss(run, label)
            if kb is not None and kb > largest:
                largest, where = kb, f"{label} in {SCENARIOS[scenario]}"
    ok = largest < RSS_LIMIT_KB
    return ok, [f"- peak RSS of each service < 15 MB at 128 connections: {verdict(ok)} — "
                f"largest: {mb(largest)} MB ({where})."]


TARGETS = (playlists_target, videos_target, thousand_target, rss_target)


def targets(data):
    """[(met, lines)] for each target, in the report's order."""
    report = Report(data)
    return [target(report) for target in TARGETS]


# ---------------------------------------------------------------------------------------------
# Sections.

def machine_section(data):
    m, load, s = data["machine"], data["load"], data["settings"]
    minutes, seconds = divmod(data["elapsed_s"], 60)
    lines = [
        f"- Date: {data['started_at']}; the run took {minutes} min {seconds} s.",
        f"- Machine: {m['cores']} cores (nproc), {m['cpu']}, {m['memory_gib']:.1f} GiB RAM, "
        f"Linux {m['kernel']}.",
        f"- Load average (1/5/15 min) before the run: {load['before']}; after: {load['after']}.",
    ]
    if float(load["before"].split()[0]) >= load["quiet_limit"]:
        lines.append(f"- **The machine was loaded when the run began** (1-minute load ≥ "
                     f"{load['quiet_limit']}): other work shared the cores; see the \"others' "
                     "CPU\" column.")
    tools = ", ".join(f"{name} {version}" for name, version in data["tools"].items())
    extra = "".join(f" {name}={value}" for name, value in s["playlists_api_env"].items())
    lines += [
        f"- Tools: {tools}.",
        f"- Source: {data['source_state']}.",
        f"- Settings: THREADS={s['threads']} (services) and worker_processes {s['threads']} "
        f"(nginx), LOG_LEVEL={s['log_level']}, LOG_FORMAT={s['log_format']}, {s['seconds']} s per "
        "run, wrk with 2 threads (1 for 1 connection), wrk's default 2 s timeout." + extra,
        f"- The full catalog (videos-web GET /api/playlists) was started by {data['catalog_launcher']}.",
    ]
    return "\n".join(lines)


def how_to_read(data):
    return f"""- The ceiling is Debian's nginx serving the playlists-api answer ({data['ceiling_bytes']} bytes) as a static
  file, at the same connection counts. "vs ceiling" for req/s is a percentage of nginx's req/s; for
  latency, CPU and RSS it is a multiple of nginx's figure (above 1× means more).
- Latency is wrk's (no coordinated-omission correction); p99.9 comes from report.lua.
- Socket errors are wrk's connect + read + write + timeout errors; non-2xx and partial (answers with
  X-Videos-Omitted not 0) are counted by bench/report.lua.
- Peak RSS is VmHWM from /proc, reset before each run (`clear_refs` 5); each scenario starts fresh
  services. CPU is utime + stime from /proc/PID/stat over the run, per 1000 answered requests; redis
  is both Redis servers; "total" is services + redis (+ nginx for the ceiling); wrk is the load
  generator; "others' CPU" is what the rest of the machine used during the run (in cores)."""


def targets_section(data):
    return "\n".join(line for _, lines in targets(data) for line in lines)


def scenario_rows(report, prefix):
    """(scenario, connections, key, ceiling key) for each run of the phase, in the report's order."""
    for scenario in SCENARIOS:
        for c in CONNECTIONS:
            key = f"{prefix}.{scenario}.{c}"
            if key in report.runs:
                yield scenario, c, key, f"{prefix}.ngx.{c}"


def throughput_row(report, scenario, c, key, ceiling):
    run = report.run(key)
    lat = lambda which: report.latency(key, which)
    top = lambda which: report.latency(ceiling, which)
    return [SCENARIOS[scenario], c, f"{run['rps']:.0f}", percent(run["rps"], report.value(ceiling, "rps")),
            ms(lat("p50")), ms(lat("p99")), ms(lat("p999")),
            " / ".join(ratio(lat(p), top(p)) for p in ("p50", "p99", "p999")),
            socket_errors(run), run["non2xx"], run["partial"]]


def throughput_table(report):
    header = ["scenario", "conns", "req/s", "vs ceiling", "p50 ms", "p99 ms", "p99.9 ms",
              "p50 / p99 / p99.9 vs ceiling", "socket errors", "non-2xx", "partial"]
    align = ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---:", "---:", "---:"]
    return table(header, align, [throughput_row(report, *row) for row in scenario_rows(report, "main")])


def resource_row(report, scenario, c, key, ceiling):
    run, top = report.run(key), report.run(ceiling)
    per = lambda *labels: fixed(cpu_per_1k(run, *labels)) if cpu(run, *labels) is not None else "–"
    common = [fixed(cpu_per_1k(run)), ratio(cpu_per_1k(run), cpu_per_1k(top)),
              fixed(cpu_per_1k(run, "wrk")), f"{others_cores(run):.2f}"]
    if scenario == "ngx":
        return [SCENARIOS[scenario], c, f"nginx {mb(rss(run, 'nginx'))} (master + workers)", "1.00×",
                f"nginx {per('nginx')}"] + common
    rss_sum = sum(rss(run, label) or 0 for label in SERVICES)  # the services, not Redis
    redis = fixed(per_1k(cpu(run, *REDIS) or 0.0, run["requests"]))
    return [SCENARIOS[scenario], c, " / ".join(mb(rss(run, label)) for label in SERVICES),
            ratio(rss_sum, rss(top, "nginx")),
            " / ".join([per(label) for label in SERVICES] + [redis])] + common


def resource_table(report):
    header = ["scenario", "conns", "peak RSS MB web / playlists / videos", "RSS sum vs nginx",
              "CPU s per 1k req web / playlists / videos / redis", "total", "vs ceiling", "wrk",
              "others' CPU (cores)"]
    align = ["---", "---:", "---", "---:", "---", "---:", "---:", "---:", "---:"]
    return table(header, align, [resource_row(report, *row) for row in scenario_rows(report, "main")])


def logs_table(report):
    warn, info = report.run("main.pl.16"), report.run("info.pl.16")
    header = ["LOG_LEVEL", "req/s", "p50 ms", "p99 ms", "CPU s per 1k req playlists / videos",
              "total", "log bytes per request"]
    align = ["---", "---:", "---:", "---:", "---", "---:", "---:"]
    rows = []
    for name, run in (("warn", warn), ("info", info)):
        rps, total = f"{run['rps']:.0f}", fixed(cpu_per_1k(run))
        if run is info:
            rps += f" ({ratio(info['rps'], warn['rps'])})"
            total += f" ({ratio(cpu_per_1k(info), cpu_per_1k(warn))})"
        per_request = run.get("log_bytes", 0) / run["requests"] if run["requests"] else 0
        rows.append([name, rps, ms(run["latency_us"]["p50"]), ms(run["latency_us"]["p99"]),
                     f"{fixed(cpu_per_1k(run, 'playlists-api'))} / {fixed(cpu_per_1k(run, 'videos-api'))}",
                     total, f"{per_request:.0f}"])
    return table(header, align, rows)


def threads_row(report, scenario, n, c):
    key = f"{report.threads_key(n)}.{scenario}.{c}"
    run = report.run(key)
    service = "playlists-api" if scenario == "pl" else "videos-api"
    return [SCENARIOS[scenario], n, c, f"{run['rps']:.0f}",
            ratio(run["rps"], report.value(f"{report.threads_key(1)}.{scenario}.{c}", "rps")),
            percent(run["rps"], report.value(f"{report.threads_key(n)}.ngx.{c}", "rps")),
            ms(run["latency_us"]["p50"]), ms(run["latency_us"]["p99"]), mb(rss(run, service)),
            fixed(cpu_per_1k(run))]


def threads_table(report):
    header = ["scenario", "THREADS", "conns", "req/s", "vs THREADS=1", "vs nginx, same workers",
              "p50 ms", "p99 ms", "peak RSS MB (service)", "CPU s per 1k req (total)"]
    align = ["---"] + ["---:"] * 9
    rows = [threads_row(report, scenario, n, c)
            for scenario in ("vid", "pl") for c in (16, 128) for n in report.data["thread_counts"]
            if f"{report.threads_key(n)}.{scenario}.{c}" in report.runs]
    return table(header, align, rows)


def growth_row(run):
    n, lat = run["videos"], run["latency_us"]
    return [n, run["connections"], f"{run['rps']:.0f}", f"{run['rps'] * n:.0f}", ms(lat["p50"]),
            ms(lat["p99"]), f"{lat['p50'] / n:.0f}", f"{lat['p99'] / n:.0f}",
            fixed(per_1k(cpu(run, *measured(run)), run["requests"] * n)),
            socket_errors(run), run["non2xx"], run["partial"],
            f"{mb(rss(run, 'playlists-api'))} / {mb(rss(run, 'videos-api'))}"]


def growth_table(report):
    header = ["videos per playlist", "conns", "req/s", "videos/s", "p50 ms", "p99 ms",
              "p50 per video µs", "p99 per video µs", "CPU s per 1k videos (total)",
              "socket errors", "non-2xx", "partial", "peak RSS MB playlists / videos"]
    align = ["---:"] * 12 + ["---"]
    runs = [run for key, run in report.runs.items() if key.startswith("grow.")]
    runs.sort(key=lambda run: (run["connections"], run["videos"]))
    return table(header, align, [growth_row(run) for run in runs])


def startup_table(data):
    rows = [[name, f"{t['median_ms']:.1f}", f"{t['p90_ms']:.1f}", f"{t['max_ms']:.1f}", t["runs"]]
            for name, t in data["startup"].items()]
    return table(["service", "median ms", "p90 ms", "max ms", "runs"],
                 ["---", "---:", "---:", "---:", "---:"], rows)


# ---------------------------------------------------------------------------------------------
# The profile: rows as the profilers print them, symbols already shortened by bench/profile.py.

def clip(line, width=160):
    return line[:width].rstrip()


def callgrind_rows(rows, total):
    width = len(f"{total:,}")  # callgrind_annotate's column: as wide as the program's total
    return [clip(f"{row['ir']:>{width},} ({row['percent']:5.2f}%)  {row['function']} [{row['object']}]")
            for row in rows]


def perf_rows(rows, width):
    return [clip(f"{row['percent']:9.2f}%  {row['dso']:<{width}}"
                 + (f"[{row['kind']}] {row['symbol']}" if "symbol" in row else ""))
            for row in rows]


def block(lines):
    return "```\n" + "\n".join(lines) + "\n```"


def callgrind_section(profile):
    cg = profile["callgrind"]
    per_answer = cg["total_ir"] / cg["requests"] if cg["requests"] else 0
    return f"""### callgrind: user-space instructions

`valgrind --tool=callgrind` on playlists-api (THREADS=1), {cg['connections']} connections for {profile['seconds']} s,
videos-api and Redis native; counters zeroed after start-up. {cg['requests']} answers,
{per_answer:.0f} instructions per answer (each answer: 1 Redis GET, 9 HTTP calls, 1 answer written).
Inclusive figures of recursive functions (the JSON parser and serializer) count nested calls more than once.

Self cost, top functions:

{block(callgrind_rows(cg['self'], cg['total_ir']))}

Inclusive cost, top functions below the event loop:

{block(callgrind_rows(cg['inclusive'], cg['total_ir']))}
"""


def perf_section(profile):
    perf = profile["perf"]
    event = f" -e {perf['event']}" if perf["event"] else ""
    width = max(len(row["dso"]) for row in perf["dso"] + perf["symbols"]) + 2  # as perf aligns
    timer = ("; this machine has no hardware counters, so samples are timer-based"
             if perf["event"] == "cpu-clock" else "")
    return f"""### perf: where the time goes, kernel included

`perf record -g{event}` on playlists-api (THREADS={perf['threads']}, native), {perf['connections']} connections for {profile['seconds']} s ({perf['rps']:.0f} req/s while sampled){timer}.

By binary:

{block(perf_rows(perf['dso'], width))}

By function (self):

{block(perf_rows(perf['symbols'], width))}
"""


def profile_section(data):
    profile = data["profile"]
    if profile["profiler"] == "none":
        return "Profiling skipped (BENCH_PROFILER=none).\n"
    parts = []
    if "callgrind" in profile:
        parts.append(callgrind_section(profile))
    if "perf" in profile:
        parts.append(perf_section(profile))
    return "\n".join(parts)


def findings_section(findings_path):
    try:
        with open(findings_path, encoding="utf-8") as f:
            text = f.read().strip("\n")
    except FileNotFoundError:
        text = "(None written yet: read the profile above and write here what is worth changing.)"
    return ("Written by hand in bench/FINDINGS.md and included here as it is (bench/render.py); "
            "update it when\nthe code changes.\n\n" + text)


def display_path(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def render(data, data_path, findings_path):
    """The whole report, as markdown."""
    report = Report(data)
    note = f"\n\nThe data: {data['source']}." if data.get("source") else ""
    return f"""# Benchmark results

Produced by `{data['command']}` (see bench/README.md); rendered by `bench/render.py` from
`{display_path(data_path)}`. Everything runs on one machine over loopback: wrk, nginx, the
services and their Redis servers share the cores, so compare **ratios to the ceiling from the same
run**; absolute numbers move between machines.{note}

## Machine and run

{machine_section(data)}

## How to read this

{how_to_read(data)}

## Targets

{targets_section(data)}

## Scenarios (THREADS={report.threads}, LOG_LEVEL={data['settings']['log_level']})

{throughput_table(report)}

Resources:

{resource_table(report)}

## The cost of request logs (playlists-api GET /, 16 connections, all services at LOG_LEVEL=info)

Each playlists answer writes 10 request lines (1 in playlists-api, 9 in videos-api) to a file.

{logs_table(report)}

## Worker threads: 1 vs 2

{threads_table(report)}

## Cost growth: one playlist of N synthetic videos (playlists-api GET /, FANOUT_LIMIT={data['settings']['fanout_limit']})

{growth_table(report)}

## Start-up: process start to the first 200 from /readyz

Each service started {startup_runs(data)} times alone (Redis already up; bench/startup.py polls /readyz every ms).

{startup_table(data)}

## Profile: what dominates playlists-api

{profile_section(data)}
## Findings

{findings_section(findings_path)}
"""


def startup_runs(data):
    return max((t["runs"] for t in data["startup"].values()), default=0)


def newest_results():
    folder = os.path.join(BENCH_DIR, "results")
    names = sorted(name for name in os.listdir(folder) if name.endswith(".json"))
    if not names:
        raise SystemExit(f"render: no results in {folder}")
    return os.path.join(folder, names[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", help="a run's JSON (default: the newest in bench/results)")
    parser.add_argument("--findings", default=os.path.join(BENCH_DIR, "FINDINGS.md"))
    args = parser.parse_args(argv)
    path = args.results or newest_results()
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    sys.stdout.write(render(data, path, args.findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
