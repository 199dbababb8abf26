"""Reads the profilers' text reports into rows for the run's JSON (bench/render.py prints them).

C++ names are shortened on the way: template arguments and parameter lists become "<…>" and
"(…)", so that a row says which function, not which of its thousand-character instantiations.
"""
import os
import re

CALLGRIND_ROW = re.compile(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*?)(?: \[([^\]]*)\])?$")
PERF_ROW = re.compile(r"^\s*([\d.]+)%\s+(\S+)(?:\s+\[(.)\]\s+(.*))?$")


def shorten(name):
    """'f<int, std::vector<x>>::g(int) const' -> 'f<…>::g(…) const'."""
    out, angle, paren = [], 0, 0
    for c in name:
        if paren == 0 and c == "<":
            if angle == 0:
                out.append("<…>")
            angle += 1
        elif paren == 0 and c == ">" and angle > 0:
            angle -= 1
        elif angle > 0:
            continue
        elif c == "(":
            if paren == 0:
                out.append("(…)")
            paren += 1
        elif c == ")" and paren > 0:
            paren -= 1
        elif paren == 0:
            out.append(c)
    text = re.sub(r"json_abi_v[0-9_]+::", "", "".join(out)).replace("std::__cxx11::", "std::")
    return text[4:] if text.startswith("???:") else text


def callgrind_total(text):
    """The instruction count of 'PROGRAM TOTALS'."""
    for line in text.splitlines():
        if "PROGRAM TOTALS" in line:
            return int(line.split()[0].replace(",", ""))
    raise ValueError("no PROGRAM TOTALS in callgrind_annotate's output")


def callgrind_rows(text, count):
    """The top functions of a callgrind_annotate report, leaving out the frames that hold
    (nearly) everything: main, the threads' start, the event loop."""
    rows, dashes = [], 0
    for line in text.splitlines():
        if re.fullmatch(r"-+", line):
            dashes += 1
            continue
        match = CALLGRIND_ROW.match(line) if dashes >= 3 else None
        if match and float(match.group(2)) < 95 and len(rows) < count:
            rows.append({"ir": int(match.group(1).replace(",", "")),
                         "percent": float(match.group(2)),
                         "function": shorten(match.group(3)),
                         "object": os.path.basename(match.group(4) or "")})
    return rows


def perf_rows(text, count):
    """The first rows of `perf report --stdio --sort dso[,symbol]`."""
    rows = []
    for line in text.splitlines():
        match = None if line.startswith("#") else PERF_ROW.match(line)
        if match and len(rows) < count:
            row = {"percent": float(match.group(1)), "dso": match.group(2)}
            if match.group(3):
                row.update(kind=match.group(3), symbol=shorten(match.group(4).rstrip()))
            rows.append(row)
    return rows
