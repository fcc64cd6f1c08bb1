# SPDX-License-Identifier: MIT
"""The fleet's figures (-o etcd=, SPEC §9, issue 15), each beside its baseline from the same run:
a write through host h1's mount → h2's file reads it (h2 preads in a tight loop) and → h2's
poller wakes (EPOLLPRI), beside a write → read and a write → wake on one mount without etcd;
a field pwrite and pread through h1's mount ÷ the same through that mount without etcd; and
compare-and-set increments through .json from three hosts at once, beside one process on the
mount without etcd. The hosts are bench/fleet_hosts.sh's: tests/fleet/fleet_lib.sh's
three-member etcd cluster and three hosts in network namespaces; the mount without etcd runs in
the root namespace. All unpinned (the fleet's daemons and etcd are). fleet_report prints the
rows."""

import os
import select
import shutil
import subprocess
import sys
import time

from seq_phases import pos_mount, run_tool
from session import reap

PIN = "unpinned"
# (setup, writer's host, reader's host, mode) of the propagation figure; "local" is the mount
# without etcd, so its rows are the floor.
PROP_SETUPS = (("fleet-read", "h1", "h2", "read"), ("fleet-poll", "h1", "h2", "poll"),
               ("local-read", "local", "local", "read"), ("local-poll", "local", "local", "poll"))
HOSTS = ("h1", "h2", "h3")
UP_BOUND_S = 90


class Fleet:
    """bench/fleet_hosts.sh running: the mounts by host name; stop() tears it down."""

    def __init__(self, s, cfg):
        self.dir = os.path.join(s.work, "fleet")
        os.makedirs(self.dir)
        argv = ["sh", cfg.path("bench", "fleet_hosts.sh"), cfg.fieldfs, cfg.path("bench", "pos.h"),
                f"{s.seg}-fleet", f"fieldfs-bench/{os.getpid()}", self.dir]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.mnt = {h: os.path.join(self.dir, h) for h in HOSTS}

    def ready(self):
        """Whether the hosts said "ready" within UP_BOUND_S; prints what they said otherwise."""
        said = []
        end = time.monotonic() + UP_BOUND_S
        while time.monotonic() < end:
            if not select.select([self.proc.stdout], [], [], 1)[0]:
                continue
            line = self.proc.stdout.readline()
            if line.strip() == "ready":
                return True
            if not line:
                break
            said.append(line)
        print("bench: WARNING: the fleet did not come up: " + "".join(said[-5:]), file=sys.stderr)
        return False

    def stop(self):
        """Closes the hosts' standard input: they unmount and take the fleet down."""
        self.proc.stdin.close()
        status = reap(self.proc, 60)
        if status != 0:
            print(f"bench: WARNING: bench/fleet_hosts.sh ended with status {status}",
                  file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)


def read_x(mnt):
    """Field x of the mount, as a number (None if unreadable)."""
    try:
        with open(os.path.join(mnt, "x"), encoding="utf-8") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def converged(mnts, value, timeout_s=10.0):
    """Whether every mount's x reads value within timeout_s."""
    end = time.monotonic() + timeout_s
    while any(read_x(m) != value for m in mnts):
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def propagation(cfg, mnt, results):
    """Write → seen, per PROP_SETUPS; of BENCH_TRIALS trials in turn, the lowest median."""
    tool = cfg.path("build", "bench", "fleet")
    best = {}
    for _ in range(cfg.trials):
        for name, writer, reader, mode in PROP_SETUPS:
            out = run_tool([tool, "prop", str(cfg.notify_samples), os.path.join(mnt[writer], "x"),
                            os.path.join(mnt[reader], "x"), mode], 120)
            cells = [float(v) for v in (out or "").split()]
            if len(cells) == 3 and (name not in best or cells[0] < best[name][0]):
                best[name] = cells
    for name, *_ in PROP_SETUPS:
        for key, value in zip(("median", "p99", "max"), best.get(name, (None,) * 3)):
            results.add_value(name, PIN, f"fleet-prop-{key}", "us", value)


def cost(cfg, client, mnt, results):
    """A field pread and pwrite through h1's mount (etcd) and the mount without etcd; the reads
    first, so that the hosts applying the writes' updates do not take their CPU."""
    for op in ("pread", "pwrite"):
        best = client.best_of(PIN, op, [(n, os.path.join(mnt[h], "x"))
                                        for n, h in (("etcd", "h1"), ("noetcd", "local"))],
                              cfg.trials)
        for name in ("etcd", "noetcd"):
            results.add(name, PIN, f"fleet-{op}", "us/op", best.get(name))


def cas(cfg, setup, mnts, results):
    """One `fleet cas` per mount at once for BENCH_COHERENCE_S seconds, from x = 0; the rows:
    increments per second per mount and in all, EAGAIN retries, and the oracle: whether every
    mount's x ends at the sum of the increments the clients counted."""
    with open(os.path.join(mnts[0], "x"), "w", encoding="utf-8") as f:
        f.write("0\n")
    if not converged(mnts, 0):
        print(f"bench: WARNING: {setup}: x did not read 0 everywhere", file=sys.stderr)
        return
    seconds = cfg.coherence_s
    procs = [subprocess.Popen([cfg.path("build", "bench", "fleet"), "cas", str(seconds),
                               os.path.join(m, ".json")], stdout=subprocess.PIPE, text=True)
             for m in mnts]
    counts = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        cells = out.split()
        counts.append([int(c) for c in cells] if p.returncode == 0 and len(cells) == 2 else None)
    if None in counts:
        print(f"bench: WARNING: {setup}: a CAS client failed", file=sys.stderr)
        return
    total = sum(done for done, _ in counts)
    for i, (done, _) in enumerate(counts):
        results.add_value(setup, PIN, f"fleet-cas-{i + 1}", "ops/s", done / seconds)
    results.add_value(setup, PIN, "fleet-cas-total", "ops/s", total / seconds)
    results.add_value(setup, PIN, "fleet-cas-eagain", "retries", sum(a for _, a in counts))
    results.add_value(setup, PIN, "fleet-cas-lost", "increments",
                      0 if converged(mnts, total) else total - (read_x(mnts[0]) or 0))


def measure(s, cfg, client, results):
    """Every fleet figure, in order; skipped with a warning where the fleet cannot run."""
    if os.geteuid() != 0 or shutil.which("etcd") is None:
        print("bench: fleet (etcd): skipped: needs root and etcd (scripts/install-deps)")
        return
    print("bench: fleet (etcd): starting a 3-member cluster and 3 hosts in namespaces")
    fleet = Fleet(s, cfg)
    local = None
    try:
        if not fleet.ready():
            return
        local = pos_mount(s, cfg, PIN, "fleet-local", "seq=seq")
        mnt = dict(fleet.mnt, local=local.mnt)
        print(f"bench: fleet (etcd): propagation ({cfg.notify_samples} writes per trial), "
              "cost, compare-and-set")
        propagation(cfg, mnt, results)
        cost(cfg, client, mnt, results)
        cas(cfg, "fleet-3", [mnt[h] for h in HOSTS], results)
        cas(cfg, "local-1", [local.mnt], results)
    finally:
        if local is not None:
            s.stop(local)
        fleet.stop()
