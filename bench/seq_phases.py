# SPDX-License-Identifier: MIT
"""The sequence counter's figures (-o seq=, SPEC §8, issue 12), each beside its baseline from the
same run: mixed snapshots while protocol writers update a struct pos (bench/pos.h), the latency
from a protocol store to a blocked epoll_wait, the cost of seq= through the mount and of a write
section on the mapping, and the daemon's CPU time at rest with and without pollers. Each adds
its rows to a Results; seq_report prints them."""

import os
import subprocess
import sys
import time

from client import on
from phases import cpu_ms
from results import PINS

# (setup, -o options, poll_ms) of the notification figure: the protocol writer wakes the
# watcher of a seq= mount at once; without seq= the watcher samples every poll_ms.
NOTIFY_SETUPS = (("seq-poll10", "seq=seq", 10), ("seq-poll1000", "seq=seq,poll_ms=1000", 1000),
                 ("noseq-poll10", "", 10))
# (setup, -o options, pollers) of the idle figure, all measured over the same seconds.
IDLE_SETUPS = (("seq-rest", "seq=seq", 0), ("seq-pollers", "seq=seq", 2),
               ("seq-pollers-1000", "seq=seq,poll_ms=1000", 2), ("noseq-pollers", "", 2))
IDLE_S = 5


def pos_mount(s, cfg, pin, name, options):
    """fieldfs on the segment SEG-name with -o schema=bench/pos.h and options."""
    opts = ",".join(o for o in (f"schema={cfg.path('bench', 'pos.h')}", options) if o)
    return s.mount(pin, "x", [cfg.fieldfs, "-f", "-o", opts, f"{s.seg}-{name}"])


def segment(s, name):
    """The segment file of pos_mount(..., name, ...)."""
    return f"/dev/shm/{s.seg}-{name}"


def run_tool(argv, timeout):
    """A tool's stdout, or None with a warning if it failed or ran over timeout seconds."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=timeout,
                              check=True).stdout
    except subprocess.CalledProcessError as e:
        failure = f"exited with status {e.returncode}"
    except subprocess.TimeoutExpired:
        failure = f"took over {timeout} s"
    print(f"bench: WARNING: {' '.join(argv)} {failure}", file=sys.stderr)
    return None


def snapshots(s, cfg, results):
    """Mixed snapshots, unpinned (the races need two CPUs): the baseline without seq= (the
    mapping reader copies without the protocol), then seq= (it uses Mapped<pos>::snapshot)."""
    for setup, options, mode in (("noseq", "", "plain"), ("seq", "seq=seq", "seq")):
        d = pos_mount(s, cfg, "unpinned", f"snap-{setup}", options)
        began = time.monotonic()
        out = run_tool([cfg.path("build", "bench", "snapshots"), str(cfg.snapshot_reads), mode,
                        d.mnt, segment(s, f"snap-{setup}")], 60 + cfg.snapshot_reads / 500)
        results.add_value(setup, "unpinned", "snap-seconds", "s", time.monotonic() - began)
        s.stop(d)
        for line in (out or "").splitlines():
            kind, *pairs = line.split()
            for key, _, value in (pair.partition("=") for pair in pairs):
                results.add_value(setup, "unpinned", f"snap-{kind}-{key}", "reads", float(value))


def notification(s, cfg, results):
    """Store → return of a blocked epoll_wait, pinned and unpinned: every setup in turn,
    BENCH_TRIALS times; each setup's row is its trial with the lowest median."""
    for pin in PINS:
        mounts = {name: pos_mount(s, cfg, pin, f"notify-{name}", options)
                  for name, options, _ in NOTIFY_SETUPS}
        best = {}
        for _ in range(cfg.trials):
            for name, d in mounts.items():
                out = run_tool(on(pin, [cfg.path("build", "bench", "notify"), "measure",
                                        str(cfg.notify_samples), os.path.join(d.mnt, "x"),
                                        segment(s, f"notify-{name}")]), 120)
                cells = [float(v) for v in (out or "").split()]
                if len(cells) == 3 and (name not in best or cells[0] < best[name][0]):
                    best[name] = cells
        for name, d in mounts.items():
            for key, value in zip(("median", "p99", "max"), best.get(name, (None,) * 3)):
                results.add_value(name, pin, f"notify-{key}", "us", value)
            s.stop(d)


def cost(s, cfg, client, results):
    """Pinned, best of alternating trials: a field pwrite and a .json pread through a seq=
    mount and one without; Mapped<T>::update of a two-field struct, and two plain atomic
    stores. No one polls."""
    mounts = {name: pos_mount(s, cfg, "pinned", f"cost-{name}", options)
              for name, options in (("seq", "seq=seq"), ("noseq", ""))}
    for op, file, label in (("pwrite", "x", "seq-pwrite"), ("pread", ".json", "seq-json")):
        best = client.best_of("pinned", op, [(n, os.path.join(d.mnt, file))
                                             for n, d in mounts.items()], cfg.trials)
        for name in mounts:
            results.add(name, "pinned", label, "us/op", best.get(name))
    seg = segment(s, "cost-seq")
    best = client.best_of_runs("pinned", [("update", "update2", seg),
                                          ("stores", "stores2", seg)], cfg.trials)
    for name in ("update", "stores"):
        results.add(name, "pinned", "seq-mapping", "us/op", best.get(name))
    for d in mounts.values():
        s.stop(d)


def idle(s, cfg, results):
    """The CPU time (in clock ticks of 10 ms) daemons use in IDLE_S seconds at rest: a seq=
    mount nobody polls, and mounts where two processes wait in epoll on a field."""
    mounts = {name: pos_mount(s, cfg, "unpinned", f"idle-{name}", options)
              for name, options, _ in IDLE_SETUPS}
    hold = str(IDLE_S + 2)
    pollers = [subprocess.Popen([cfg.path("build", "bench", "notify"), "hold", hold,
                                 os.path.join(mounts[name].mnt, field)])
               for name, _, n in IDLE_SETUPS for field in ("x", "y")[:n]]
    time.sleep(1)
    before = {name: cpu_ms(d.proc.pid) for name, d in mounts.items()}
    time.sleep(IDLE_S)
    for name, d in mounts.items():
        results.add_value(name, "unpinned", "seq-idle-cpu", "ms", cpu_ms(d.proc.pid) - before[name])
    for p in pollers:
        try:
            status = p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            status = p.wait()
        if status != 0:
            print(f"bench: WARNING: a poller ended with status {status}", file=sys.stderr)
    for d in mounts.values():
        s.stop(d)


def measure(s, cfg, client, results):
    """Every sequence-counter figure, in order."""
    print(f"bench: sequence counter: mixed snapshots ({cfg.snapshot_reads} reads per setup)")
    snapshots(s, cfg, results)
    print(f"bench: sequence counter: notification ({cfg.notify_samples} stores per trial), "
          "cost and idle")
    notification(s, cfg, results)
    cost(s, cfg, client, results)
    idle(s, cfg, results)
