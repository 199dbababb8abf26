#!/usr/bin/env python3
"""Tests of bench/render.py: figures and targets from a small fixture run, offline.

    python3 -m unittest -v bench/test_render.py     (ctest: the bench.render test, label unit)
"""
import copy
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402


def wrk_run(scenario, c, rps, p99_ms, cpu, rss, threads=2, **extra):
    """One measured run: 10 s, no errors; p50 is half of p99, p99.9 one and a half times it."""
    p99 = round(p99_ms * 1000)
    return {"scenario": scenario, "connections": c, "threads": threads, "log_level": "warn",
            "requests": rps * 10, "seconds": 10.0, "rps": float(rps), "bytes": 0,
            "latency_us": {"p50": p99 // 2, "p90": p99, "p99": p99, "p999": p99 * 3 // 2, "max": p99 * 2},
            "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
            "non2xx": 0, "partial": 0, "cpu_s": {**cpu, "wrk": 1.0, "others": 0.5},
            "peak_rss_kb": rss, **extra}


def fixture():
    """A whole run whose figures are easy to work out: the ceiling makes 80,000 req/s with
    0.01 CPU s per 1000 requests; playlists-api 8000 req/s (10%), p99 20 ms."""
    runs = {}
    for c in render.CONNECTIONS:
        runs[f"main.ngx.{c}"] = wrk_run("ngx", c, 80000, 2.0, {"nginx": 8.0}, {"nginx": 20480})
        runs[f"main.vid.{c}"] = wrk_run("vid", c, 60000, 1.0, {"videos-api": 9.0, "videos-db": 3.0},
                                        {"videos-api": 5120, "videos-db": 4000})
        runs[f"main.pl.{c}"] = wrk_run("pl", c, 8000, 20.0,
                                       {"playlists-api": 8.0, "videos-api": 8.0,
                                        "playlists-db": 1.0, "videos-db": 1.0},
                                       {"playlists-api": 10240, "videos-api": 6144})
        runs[f"main.web.{c}"] = wrk_run("web", c, 90000, 1.5, {"videos-web": 9.0}, {"videos-web": 5120})
        runs[f"main.webapi.{c}"] = wrk_run("webapi", c, 7000, 22.0,
                                           {"videos-web": 3.5, "playlists-api": 7.0, "videos-api": 7.0,
                                            "playlists-db": 0.7, "videos-db": 0.7},
                                           {"videos-web": 6144, "playlists-api": 10240, "videos-api": 6144})
    runs["info.pl.16"] = wrk_run("pl", 16, 7200, 24.0, {"playlists-api": 8.0, "videos-api": 8.0},
                                 {"playlists-api": 10240}, log_bytes=72000 * 2500)
    for c in (16, 128):
        runs[f"t1.ngx.{c}"] = wrk_run("ngx", c, 70000, 2.0, {"nginx": 7.0}, {"nginx": 10240}, threads=1)
        runs[f"t1.vid.{c}"] = wrk_run("vid", c, 70000, 1.0, {"videos-api": 7.0}, {"videos-api": 5120}, threads=1)
        runs[f"t1.pl.{c}"] = wrk_run("pl", c, 7000, 18.0, {"playlists-api": 14.0}, {"playlists-api": 9216}, threads=1)
    for n in (1, 10):
        runs[f"grow.{n}.1"] = wrk_run("pl", 1, 1000 // n, 0.1 * n, {"playlists-api": 1.0},
                                      {"playlists-api": 6144, "videos-api": 5120}, videos=n)
    return {
        "format": 1, "command": "bench/run.sh", "started_at": "2026-12-01 10:00 UTC", "elapsed_s": 125,
        "machine": {"cores": 2, "cpu": "Test CPU", "memory_gib": 8.0, "kernel": "6.1.0"},
        "load": {"before": "0.10 0.20 0.30", "after": "1.00 0.50 0.40", "quiet_limit": 0.8},
        "tools": {"wrk": "4.1.0", "nginx": "1.22.1", "redis": "7.0.15", "cmake": "3.25.1"},
        "source_state": "abc1234", "commit": "abc1234",
        "settings": {"threads": 2, "seconds": 10, "log_level": "warn", "log_format": "json",
                     "fanout_limit": 32, "playlists_api_env": {}},
        "catalog_launcher": "scripts/run.sh --bin", "ceiling_bytes": 1732, "thread_counts": [1, 2],
        "runs": runs,
        "startup": {"videos-api": {"median_ms": 2.94, "p90_ms": 3.1, "max_ms": 3.3, "runs": 20}},
        "profile": {"profiler": "none", "seconds": 15},
    }


def rendered(data, findings="/nonexistent/FINDINGS.md"):
    return render.render(data, "/tmp/run.json", findings)


def target_line(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


def table_row(text, first_cells):
    return next(line for line in text.splitlines() if line.startswith(first_cells))


class TargetsTest(unittest.TestCase):
    def test_the_fixture_meets_every_target(self):
        text = rendered(fixture())
        self.assertEqual(text.count("**met**"), 4)
        self.assertNotIn("**not met**", text)
        line = target_line(text, "- playlists-api")
        self.assertIn("16 conns: 10.0% of the ceiling, 0 socket errors", line)
        self.assertIn("p99 at 128: 20.0 ms.", line)
        # 36 CPU s over 80,000 answers: 45 µs per 10 exchanges; nginx 0.1 ms per 1000 requests.
        self.assertIn("CPU per exchange at 16 connections (all CPU per answer / 10 exchanges): "
                      "22.5 µs, 2.25× nginx's CPU per request", text)

    def test_p99_at_128_connections_of_25_ms_is_not_met(self):
        data = fixture()
        data["runs"]["main.pl.128"]["latency_us"]["p99"] = 25000
        line = target_line(rendered(data), "- playlists-api")
        self.assertIn("**not met**", line)
        self.assertIn("p99 at 128: 25.0 ms.", line)

    def test_p99_at_16_connections_does_not_count(self):
        data = fixture()
        data["runs"]["main.pl.16"]["latency_us"]["p99"] = 90000
        self.assertIn("**met**", target_line(rendered(data), "- playlists-api"))

    def test_too_few_playlists_answers_are_not_met(self):
        data = fixture()
        data["runs"]["main.pl.16"]["rps"] = 3999.0  # below 5% of 80,000
        self.assertIn("**not met**", target_line(rendered(data), "- playlists-api"))

    def test_a_timeout_at_1000_connections_is_not_met_and_counted(self):
        data = fixture()
        data["runs"]["main.web.1000"]["socket_errors"]["timeout"] = 3
        line = target_line(rendered(data), "- 1000 connections")
        self.assertIn("**not met**", line)
        self.assertIn("videos-web GET /: 3 socket errors (0 connect, 0 read, 0 write, 3 timeout)", line)

    def test_videos_api_below_60_percent_is_not_met(self):
        data = fixture()
        data["runs"]["main.vid.128"]["rps"] = 47000.0
        line = target_line(rendered(data), "- videos-api")
        self.assertIn("**not met**", line)
        self.assertIn("128 conns: 58.8%", line)

    def test_15_mb_of_rss_is_not_met(self):
        data = fixture()
        data["runs"]["main.webapi.128"]["peak_rss_kb"]["videos-web"] = 15 * 1024
        line = target_line(rendered(data), "- peak RSS")
        self.assertIn("**not met** — largest: 15.0 MB (videos-web in videos-web GET /api/playlists)", line)

    def test_targets_are_also_given_as_data(self):
        data = fixture()
        data["runs"]["main.pl.128"]["partial"] = 1
        self.assertEqual([met for met, _ in render.targets(data)], [False, True, True, True])


class TablesTest(unittest.TestCase):
    def test_scenario_row_against_the_ceiling(self):
        row = table_row(rendered(fixture()), "| playlists-api GET / (9 videos) | 128 | 8000 |")
        self.assertEqual(row, "| playlists-api GET / (9 videos) | 128 | 8000 | 10.0% | 10.0 | 20.0 | "
                              "30.0 | 10× / 10× / 10× | 0 | 0 | 0 |")

    def test_resources_row(self):
        row = table_row(rendered(fixture()), "| videos-api GET /{id} | 16 | – / – / 5.0 |")
        # RSS: 5 MB of nginx's 20 (Redis not counted); CPU: 12 s over 600,000 requests,
        # 2× nginx's 8 s over 800,000.
        self.assertEqual(row, "| videos-api GET /{id} | 16 | – / – / 5.0 | 0.25× | "
                              "– / – / 0.015 / 0.005 | 0.020 | 2.00× | 0.002 | 0.05 |")

    def test_logs_threads_growth_and_startup(self):
        text = rendered(fixture())
        self.assertIn("| info | 7200 (0.90×) | 12.0 | 24.0 | 0.111 / 0.111 | 0.222 (0.99×) | 2500 |", text)
        self.assertIn("| playlists-api GET / (9 videos) | 1 | 128 | 7000 | 1.00× | 10.0% | 9.00 | 18.0 | "
                      "9.0 | 0.200 |", text)
        self.assertIn("| 10 | 1 | 100 | 1000 | 0.500 | 1.00 | 50 | 100 | 0.100 | 0 | 0 | 0 | 6.0 / 5.0 |", text)
        self.assertIn("| videos-api | 2.9 | 3.1 | 3.3 | 20 |", text)

    def test_missing_figures_show_a_dash(self):
        self.assertEqual(render.ms(None), "–")
        self.assertEqual(render.ratio(1.0, 0), "–")


class FindingsTest(unittest.TestCase):
    def test_findings_are_included_as_written(self):
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.write("**Status.** Hand-written, *kept* as it is.\n\n| a | b |\n")
        try:
            text = rendered(fixture(), f.name)
        finally:
            os.unlink(f.name)
        self.assertTrue(text.endswith("**Status.** Hand-written, *kept* as it is.\n\n| a | b |\n"))

    def test_the_committed_report_is_its_data_rendered(self):
        """bench/RESULTS.md is render.py's output for the JSON it names, with bench/FINDINGS.md:
        edit FINDINGS.md, never RESULTS.md, and re-render."""
        with open(os.path.join(render.BENCH_DIR, "RESULTS.md"), encoding="utf-8") as f:
            committed = f.read()
        data_path = re.search(r"from\n`([^`]+\.json)`", committed).group(1)
        with open(os.path.join(render.REPO, data_path), encoding="utf-8") as f:
            data = render.json.load(f)
        expected = render.render(data, os.path.join(render.REPO, data_path),
                                 os.path.join(render.BENCH_DIR, "FINDINGS.md"))
        self.assertEqual(committed, expected, "re-render: python3 bench/render.py > bench/RESULTS.md")

    def test_no_run_is_changed_by_rendering(self):
        data = fixture()
        before = copy.deepcopy(data)
        rendered(data)
        self.assertEqual(data, before)


if __name__ == "__main__":
    unittest.main()
