"""The processes of one benchmark run, and what /proc says about them.

Every process started through Processes is stopped by PID, newest first, when the run ends,
fails or is interrupted; nothing is found or stopped by name.
"""
import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


class Processes:
    """Represents the processes one run started, with their logs in run_dir/logs."""

    def __init__(self, run_dir):
        self.logs = os.path.join(run_dir, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.started = []

    def start(self, command, env, log_name):
        log = open(os.path.join(self.logs, log_name), "ab")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        log.close()
        self.started.append(process)
        return process

    def log_path(self, log_name):
        return os.path.join(self.logs, log_name)

    def stop(self, process, grace=5):
        """SIGTERM, then SIGKILL after grace seconds."""
        stop_process(process, grace)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self):
        for process in reversed(list(self.started)):
            self.stop(process)


# ---------------------------------------------------------------------------------------------
# Ports and readiness.

class Ports:
    """Hands out free loopback ports below the ephemeral range, so that no outgoing connection
    can take one between the check and the bind; never the same one twice."""

    def __init__(self):
        self.taken = set()

    def block(self, count):
        while True:
            base = random.randrange(20000, 32000 - count)
            ports = range(base, base + count)
            if not self.taken.intersection(ports) and all(map(port_free, ports)):
                self.taken.update(ports)
                return list(ports)

    def one(self):
        return self.block(1)[0]


def port_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def http_get(url, timeout=5):
    """(status, headers, body) of a GET; raises OSError when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_until(ready, process, what, seconds, log=None):
    """Polls ready() every 0.1 s until it is true; fails if process ends or time runs out."""
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = ""
            if log:
                with open(log, errors="replace") as f:
                    tail = ": " + "".join(f.readlines()[-5:])
            raise BenchError(f"{what} did not become ready{tail}")
        time.sleep(0.1)


def answers_200(url):
    try:
        return http_get(url, timeout=1)[0] == 200
    except OSError:
        return False


def stop_process(process, grace=5):
    """SIGTERM, then SIGKILL after grace seconds; returns once it has exited."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------------------------------------
# /proc.

def proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (state is [0])."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def executable_name(pid):
    """The name the process was started by (/proc/PID/exe would name the target of a link:
    Debian's redis-server is a link to redis-check-rdb)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def cpu_seconds(pids):
    """utime + stime of the processes, summed."""
    total = 0
    for pid in pids:
        try:
            fields = proc_stat(pid)
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / CLK_TCK


def peak_rss_kb(pids):
    """VmHWM of the processes, summed."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
        except OSError:
            pass
    return total


def reset_peak_rss(pids):
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


def machine_busy_seconds():
    """CPU time the whole machine spent busy: user, nice, system, irq, softirq, steal."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return sum(int(fields[i]) for i in (1, 2, 3, 6, 7, 8)) / CLK_TCK


def children_cpu_seconds():
    """CPU of this process's finished and waited-for children (wrk)."""
    times = os.times()
    return times.children_user + times.children_system


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
