#!/usr/bin/env python3
"""The services' /metrics is valid Prometheus text, as a real Prometheus parser reads it.

Starts the catalog with the project's launcher (`scripts/run.sh --bin DIR`: the three built
services and two seeded redis-servers on loopback, FLAKY=true), sends traffic that makes every
metric family and every label appear (catalog answers with injected failures, 400 and 404
answers, the page, /config.json), fetches each admin port's /metrics and runs
`promtool check metrics` (Debian's prometheus package) on it: no parse error and no lint problem.

promtool: the prometheus .deb is fetched with `apt-get download` (never installed: the package
starts a Prometheus daemon on :9090), and only usr/bin/promtool is taken out of it, into
.cache/promtool (PROMTOOL_CACHE to change). Binaries: SERVICE_BIN_DIR (ctest sets
<build>/services), else build/release/services.

The check proves itself: realistic mistakes put into copies of the real exposition (escaping
dropped, HELP/TYPE per series, a service name as metric prefix, a decimal comma, an unescaped
newline in HELP, a counter without _total) must each make promtool fail.
"""
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ left in tests/e2e
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from run_command_test import descendants, free_ports, run_as_test  # noqa: E402  (the e2e test's helpers)
CACHE = os.environ.get("PROMTOOL_CACHE") or os.path.join(REPO, ".cache", "promtool")
BIN_DIR = os.environ.get("SERVICE_BIN_DIR") or os.path.join(REPO, "build", "release", "services")
SERVICES = ("videos-web", "playlists-api", "videos-api")  # admin ports: base, base+1, base+2


def log(message):
    print(message, flush=True)


# --------------------------------------------------------------------------------------------
# promtool from Debian's prometheus package, cached.

def promtool():
    """Path of a working promtool; fetches Debian's prometheus .deb the first time."""
    path = os.path.join(CACHE, "promtool")
    if os.access(path, os.X_OK) and subprocess.run([path, "--version"], capture_output=True).returncode == 0:
        return path
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        # As root, apt fetches as _apt, which cannot write here; root's own fetch is fine.
        sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
        download = ["apt-get", *sandbox, "download", "prometheus"]
        fetched = subprocess.run(download, cwd=work, capture_output=True, text=True)
        if fetched.returncode != 0 and os.geteuid() == 0:
            # Lists older than the mirror (a point release replaced the .deb): refresh, once.
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            fetched = subprocess.run(download, cwd=work, capture_output=True, text=True)
        debs = glob.glob(os.path.join(work, "prometheus_*.deb"))
        assert fetched.returncode == 0 and len(debs) == 1, \
            f"apt-get download prometheus failed: {fetched.stdout}{fetched.stderr}"
        # Only promtool (48 MB) out of the package, not the 50 MB server beside it.
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", debs[0]], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", work, "./usr/bin/promtool"], stdin=tar.stdout, check=True)
        assert tar.wait() == 0, f"dpkg-deb could not read {debs[0]}"
        os.replace(os.path.join(work, "usr", "bin", "promtool"), path)
        log(f"promtool taken from {os.path.basename(debs[0])} into {CACHE}")
    return path


def check_metrics(tool, text):
    """(exit code, output) of `promtool check metrics` reading text: 0 clean, 1 parse error,
    3 lint problems. Lint problems fail the test too: metric names, types and suffixes are what
    the dashboard and rate() queries rely on, and the exposition is lint-clean."""
    done = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True)
    return done.returncode, (done.stdout + done.stderr).strip()


# --------------------------------------------------------------------------------------------
# Realistic mistakes, each put into a copy of a real exposition; promtool must reject each.

def sub_once(pattern, replacement, text, flags=re.M):
    changed, count = re.subn(pattern, replacement, text, count=1, flags=flags)
    assert count == 1, f"the exposition has nothing for the mutation to change ({pattern})"
    return changed


def escaping_dropped(text):
    # A label value that needs escaping, written raw: version 1.0.0 "rc1" with bare quotes.
    return sub_once(r'(^build_info\{.*version=")([^"]*)(")', r'\g<1>\g<2> "rc1"\g<3>', text)


def header_per_series(text):
    # HELP and TYPE written before every series of a family instead of once per family.
    help_line = re.search(r"^# HELP http_client_requests_total .*$", text, re.M).group(0)
    type_line = "# TYPE http_client_requests_total counter"
    lines, out = text.split("\n"), []
    for line in lines:
        if line.startswith("http_client_requests_total{") and out and not out[-1].startswith("# TYPE"):
            out += [help_line, type_line]
        out.append(line)
    return "\n".join(out)


def service_name_as_prefix(text):
    # The service's name as the metric prefix: a dash is not allowed in a metric name.
    return re.sub(r"\bhttp_server_requests_total\b", "playlists-api_requests_total", text)


def decimal_comma(text):
    # A value printed under a locale with a decimal comma.
    return sub_once(r"^(http_client_request_duration_seconds_sum\S* \d+)\.(\d+)", r"\1,\2", text)


def newline_in_help(text):
    # A HELP text with a line break not escaped as \n.
    return sub_once(r"^(# HELP playlists_videos_omitted_total [^\n]*?) ", "\\1\n", text)


def counter_without_total(text):
    # A counter renamed without the _total suffix (lint: what rate() queries expect).
    return re.sub(r"\bplaylists_videos_omitted_total\b", "playlists_videos_omitted", text)


MUTATIONS = [
    ("label value escaping dropped", escaping_dropped, 1),
    ("HELP and TYPE once per series", header_per_series, 1),
    ("service name as metric prefix", service_name_as_prefix, 1),
    ("decimal comma in a value", decimal_comma, 1),
    ("unescaped newline in HELP", newline_in_help, 1),
    ("counter without _total", counter_without_total, 3),
]


# --------------------------------------------------------------------------------------------
# What the traffic must make appear (our own reading of the text, independent of label order).

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            yield match.group(1), dict(LABEL.findall(match.group(2) or "")), float(match.group(3))


def find(text, name, **labels):
    """Sum of the samples of name whose labels include labels."""
    found = [(l, v) for n, l, v in samples(text) if n == name]
    values = [v for l, v in found if all(l.get(k) == w for k, w in labels.items())]
    assert values, f"no sample {name}{labels}; there are {[l for l, _ in found]}"
    return sum(values)


def check_coverage(expositions):
    web, playlists, videos = (expositions[s] for s in SERVICES)
    for service, text in expositions.items():
        assert find(text, "build_info", service=service) == 1
        assert find(text, "http_server_request_duration_seconds_count") > 0, service
        for family in ("http_server_requests_total", "http_server_request_duration_seconds"):
            assert f"# TYPE {family} " in text, f"{service}: no {family}"
    for route, status in (("static", "200"), ("/api/playlists", "200"), ("/config.json", "200")):
        assert find(web, "http_server_requests_total", route=route, status=status) > 0
    assert find(web, "http_server_requests_total", status="404") > 0
    assert find(playlists, "http_server_requests_total", route="/", status="200") > 0
    assert find(playlists, "http_server_requests_total", route="other", status="404") > 0
    for outcome in ("ok", "5xx"):
        assert find(playlists, "http_client_requests_total", peer="videos-api", outcome=outcome) > 0
    assert find(playlists, "http_client_request_duration_seconds_bucket", peer="videos-api", le="+Inf") > 0
    assert find(playlists, "playlists_videos_omitted_total") > 0
    assert find(playlists, "redis_command_errors_total") == 0
    for status in ("200", "400", "404", "500"):
        assert find(videos, "http_server_requests_total", route="/{id}", status=status) > 0
    assert find(videos, "fault_injected_failures_total") > 0
    assert find(videos, "redis_command_errors_total") == 0


# --------------------------------------------------------------------------------------------
# The catalog, through scripts/run.sh --bin.

def get(url):
    """(status, body) of a GET; error statuses are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def drive_traffic(ports):
    web, playlists, videos = (f"http://127.0.0.1:{ports[k]}" for k in
                              ("WEB_PORT", "PLAYLISTS_API_PORT", "VIDEOS_API_PORT"))
    expected = [(web + "/", 200), (web + "/no-such-file", 404), (web + "/config.json", 200),
                (playlists + "/no-such-route", 404), (videos + "/no-such-video", 404),
                (videos + "/%ZZ", 400)]
    for url, status in expected:
        got = get(url)[0]
        for _ in range(20 if url.startswith(videos) else 0):
            if got == status:
                break
            got = get(url)[0]  # FLAKY may have failed it on purpose (about 1 in 3): again
        assert got == status, f"{url} answered {got}, expected {status}"
    for _ in range(20):  # 180 calls to videos-api at a third failing: ok and 5xx both appear
        assert get(web + "/api/playlists")[0] == 200
        assert get(playlists + "/")[0] == 200
    for _ in range(20):
        get(videos + "/jM36M39MA3I")  # 200 or an injected 500


def start_catalog(ports, admin_base):
    env = dict(os.environ, FLAKY="true", ADMIN_PORT_BASE=str(admin_base),
               **{k: str(v) for k, v in ports.items()})
    run = subprocess.Popen([os.path.join(REPO, "scripts", "run.sh"), "--bin", BIN_DIR], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    output, ready = [], threading.Event()

    def drain():  # read to the end: a full pipe would block the services' log writes
        for line in run.stdout:
            output.append(line)
            if "The catalog is running" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(180) or run.poll() is not None:
        stop_catalog(run, [])
        raise AssertionError("scripts/run.sh --bin did not start the catalog:\n" + "".join(output[-30:]))
    return run, output


def stop_catalog(run, started):
    if run.poll() is None:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
    for pid in started:  # anything the launcher failed to stop, by PID
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main():
    for name in ("videos-api", "playlists-api", "videos-web"):
        assert os.access(os.path.join(BIN_DIR, name, name), os.X_OK), f"no {BIN_DIR}/{name}/{name}"
    tool = promtool()
    log(subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.splitlines()[0])

    block = free_ports(8)
    names = ("WEB_PORT", "PLAYLISTS_API_PORT", "VIDEOS_API_PORT", "PLAYLISTS_DB_PORT", "VIDEOS_DB_PORT")
    ports = dict(zip(names, block))
    admin_base = block[5]
    run, output = start_catalog(ports, admin_base)
    started = descendants(run.pid)
    try:
        drive_traffic(ports)
        expositions = {}
        for i, service in enumerate(SERVICES):
            status, body = get(f"http://127.0.0.1:{admin_base + i}/metrics")
            assert status == 200, f"{service} /metrics answered {status}"
            expositions[service] = body
    finally:
        stop_catalog(run, started)

    check_coverage(expositions)
    failures = []
    for service, text in expositions.items():
        code, said = check_metrics(tool, text)
        log(f"{service}: promtool check metrics: exit {code}, {len(text.splitlines())} lines"
            + (f"\n{said}" if said else ""))
        if code != 0:
            failures.append(f"{service}: promtool exit {code}: {said}")
    assert not failures, "the exposition is not clean Prometheus text:\n" + "\n".join(failures)

    caught = 0
    for name, mutate, expected_code in MUTATIONS:
        code, said = check_metrics(tool, mutate(expositions["playlists-api"]))
        verdict = "caught" if code == expected_code else "MISSED"
        caught += code == expected_code
        log(f"mutation {name}: promtool exit {code} ({verdict}): {said.splitlines()[-1] if said else ''}")
    assert caught == len(MUTATIONS), f"only {caught} of {len(MUTATIONS)} mutated expositions rejected"
    log(f"mutation check: {caught} of {len(MUTATIONS)} realistic mistakes rejected by promtool")


if __name__ == "__main__":
    run_as_test(main)
