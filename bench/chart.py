# SPDX-License-Identifier: MIT
"""bench-results/results.png: writes the chart's data files and runs gnuplot on bench/chart.gp
(latency per operation and setup, and concurrent readers, pinned and unpinned)."""

import os
import shutil
import subprocess

from results import FILE_OPS, FSES, PINS, READERS

XLABEL = {"orc": "open+read+close", "cat": "read to EOF (cat)", "pread": "pread / load / GET",
          "owc": "open+write+close", "pwrite": "pwrite / store / SET"}
# The mapping's and Redis's operation drawn beside pread and pwrite.
BESIDE = {"pread": ("load", "get"), "pwrite": ("store", "set")}


def value(v, scale=1.0):
    """A data cell: ? (gnuplot's missing value) when unknown."""
    return "?" if v is None else f"{v / scale:g}"


def write_data(res, data):
    """lat-PIN.dat (µs per op) and conc-PIN.dat (kops/s) in the directory data."""
    for pin in PINS:
        with open(os.path.join(data, f"lat-{pin}.dat"), "w", encoding="utf-8") as out:
            out.write("op nullfs fieldfs fieldfs-t2 tmpfs mapping redis\n")
            for op in FILE_OPS:
                mapping, redis = BESIDE.get(op, (None, None))
                cells = [res.median(fs, pin, op) for fs in FSES]
                cells += [res.median("mmap", pin, mapping), res.median("redis", pin, redis)]
                out.write(f'"{XLABEL[op]}" ' + " ".join(value(c) for c in cells) + "\n")
        with open(os.path.join(data, f"conc-{pin}.dat"), "w", encoding="utf-8") as out:
            out.write("readers nullfs fieldfs fieldfs-t2 tmpfs\n")
            for n in READERS:
                cells = [value(res.median(fs, pin, f"conc{n}"), 1000) for fs in FSES]
                out.write(f'"{n} reader{"s" if n > 1 else ""}" ' + " ".join(cells) + "\n")


def draw(res, work, png, trials):
    """Draws png if gnuplot is installed; says what it did."""
    if shutil.which("gnuplot") is None:
        print("bench: gnuplot is not installed; no chart")
        return
    write_data(res, work)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chart.gp")
    subtitle = f"best of {trials} trials, median of batches"
    run = subprocess.run(["gnuplot", "-e", f"data='{work}'; png='{png}'; subtitle='{subtitle}'",
                          script], check=False)
    if run.returncode == 0:
        print(f"bench: chart in {png}")
    else:
        print(f"bench: WARNING: gnuplot failed (status {run.returncode}); no chart")
