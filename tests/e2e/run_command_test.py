#!/usr/bin/env python3
"""End-to-end test of the README's run command: start scripts/run.sh, read the catalog through
videos-web, stop it with Ctrl-C (SIGINT), and check that nothing it started is left running."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_ports(count):
    """count consecutive free loopback ports, below the kernel's ephemeral range (32768+), where
    outgoing connections of a busy machine could take them between our check and the bind."""
    import random
    while True:
        base = random.randrange(20000, 32000 - count)
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return list(range(base, base + count))
        except OSError:
            continue


def descendants(pid):
    """PIDs of every process below pid, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    block = free_ports(8)
    names = ("WEB_PORT", "PLAYLISTS_API_PORT", "VIDEOS_API_PORT", "PLAYLISTS_DB_PORT", "VIDEOS_DB_PORT")
    ports = dict(zip(names, block))
    admin = block[5]  # admin ports: block[5], block[6], block[7]
    env = dict(os.environ, ADMIN_PORT_BASE=str(admin), **{k: str(v) for k, v in ports.items()})
    run = subprocess.Popen([os.path.join(REPO, "scripts", "run.sh")], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    started = []
    output = []
    try:
        deadline = time.time() + 600
        for line in run.stdout:
            output.append(line)
            if "The catalog is running" in line:
                print(line.strip())
                break
            if time.time() > deadline:
                raise AssertionError("run.sh did not start in time")
        else:
            raise AssertionError(f"run.sh ended before the catalog ran (exit {run.wait()}):\n"
                                 + "".join(output[-30:]))
        started = descendants(run.pid)
        base = f"http://127.0.0.1:{ports['WEB_PORT']}"
        page = urllib.request.urlopen(base + "/", timeout=5)
        assert page.status == 200 and b"<html" in page.read().lower(), "no page at /"
        answer = urllib.request.urlopen(base + "/api/playlists", timeout=5)
        catalog = json.load(answer)
        videos = sum(len(playlist["videos"]) for playlist in catalog)
        assert len(catalog) == 4, f"expected 4 playlists, got {len(catalog)}"
        assert videos == 9, f"expected 9 videos, got {videos}"
        print(f"catalog through videos-web: {len(catalog)} playlists, {videos} videos")

        run.send_signal(signal.SIGINT)
        code = run.wait(timeout=30)
        assert code == 0, f"run.sh exited with {code} after Ctrl-C"
        time.sleep(0.5)
        left = [pid for pid in started if alive(pid)]
        assert not left, f"processes left running after Ctrl-C: {left}"
        for name, port in ports.items():
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", port)) != 0, f"{name} {port} still listening"
        print(f"stopped cleanly: {len(started)} processes ended, no port left open")
    finally:
        if run.poll() is None:
            run.terminate()
            try:
                run.wait(timeout=15)
            except subprocess.TimeoutExpired:
                run.kill()
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def run_as_test(test):
    """Runs test(): PASS, or FAIL with the failed assertion's message and exit status 1."""
    try:
        test()
    except AssertionError as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    run_as_test(main)
