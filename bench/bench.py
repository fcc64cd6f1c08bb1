# SPDX-License-Identifier: MIT
"""Measures fieldfs against its baselines and prints a table, bench-results/results.csv and
bench-results/results.png. scripts/bench installs what is missing, builds build/release/fieldfs
and build/bench/ (the C and C++ clients and the floor), then runs this.

Setups: fieldfs (single-threaded, and -o threads=2), the null fs (a do-nothing libfuse
filesystem with direct_io: the floor), a plain file on tmpfs (the kernel-only path), a direct
mapping of the segment (the physical limit), Redis on loopback, and the page-cache prototype
(null_fs -o cache=open|noopen); each pinned to CPU 0 (client and daemon) and unpinned. Every
operation runs on each setup in BENCH_TRIALS alternating trials; a row is the best trial.
Then concurrent readers, what readers see while the mapping changes (coherence), field-count
scale, the idle daemon's CPU time, the sequence counter's figures (-o seq=, seq_phases) and
the fleet's (-o etcd=, fleet_phases: a 3-member etcd cluster and 3 hosts in network namespaces).

A report, not a gate: it exits 0 when a target fails, and prints FAIL. BENCH_BATCHES (default
9) and BENCH_BATCH_MS (default 100) set the batches of one trial; BENCH_TRIALS (default 5) the
trials per setup; BENCH_COHERENCE_S (default 5) the seconds of each coherence check;
BENCH_SNAPSHOT_READS and BENCH_NOTIFY_SAMPLES the size of the sequence counter's figures (see
config())."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import chart
import fleet_phases
import phases
import seq_phases
from client import Client
from fleet_report import print_fleet_tables
from report import print_tables, write_csv
from results import PINS, Results
from seq_report import print_seq_tables
from session import MountError, Session
from targets import print_targets


@dataclass(frozen=True)
class Config:
    """Where the programs are and how long to measure."""

    root: str
    batches: int
    batch_ms: int
    trials: int
    coherence_s: int
    snapshot_reads: int
    notify_samples: int

    def path(self, *parts):
        """A path under the source tree's root."""
        return os.path.join(self.root, *parts)

    @property
    def fieldfs(self):
        return self.path("build", "release", "fieldfs")

    @property
    def null_fs(self):
        return self.path("build", "bench", "null_fs")

    @property
    def coherence(self):
        return self.path("build", "bench", "coherence")


def env_int(name, default):
    """A positive whole number from the environment."""
    text = os.environ.get(name, str(default))
    if not text.isdigit() or int(text) < 1:
        sys.exit(f"bench: {name} must be a positive whole number, not {text!r}")
    return int(text)


def config():
    """The settings from the environment. The snapshot reads default to 1,000,000 scaled by
    how much shorter BENCH_BATCHES, BENCH_BATCH_MS and BENCH_COHERENCE_S make the run than their
    defaults (CI's 3, 50 and 2: 66,667); the notification's stores per trial to 40 per second of
    BENCH_COHERENCE_S."""
    batches, batch_ms = env_int("BENCH_BATCHES", 9), env_int("BENCH_BATCH_MS", 100)
    coherence_s = env_int("BENCH_COHERENCE_S", 5)
    reads = round(1_000_000 * batches * batch_ms * coherence_s / (9 * 100 * 5))
    return Config(root=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                  batches=batches, batch_ms=batch_ms, trials=env_int("BENCH_TRIALS", 5),
                  coherence_s=coherence_s,
                  snapshot_reads=env_int("BENCH_SNAPSHOT_READS", max(3, reads)),
                  notify_samples=env_int("BENCH_NOTIFY_SAMPLES", 40 * coherence_s))


def measure(s, cfg, client, results):
    """Every measurement, in order; returns the scale phase's note, if any."""
    with open(os.path.join(s.shmdir, "value"), "w", encoding="utf-8") as tmpfs:
        tmpfs.write("0\n")
    redis_port = s.start_redis(client)
    for pin in PINS:
        print(f"bench: measuring, {pin}")
        phases.latency(s, cfg, client, results, pin, redis_port)
    s.stop_redis()
    print(f"bench: checking coherence ({cfg.coherence_s} s per setup)")
    phases.coherence(s, cfg, results)
    print("bench: measuring scale and idle cost")
    note = phases.scale(s, cfg, client, results)
    phases.idle(s, cfg, results)
    seq_phases.measure(s, cfg, client, results)
    fleet_phases.measure(s, cfg, client, results)
    return note


def run(cfg):
    """Measures, reports and cleans up; returns the exit status."""
    client = Client(cfg.path("build", "bench", "fieldfs_bench"), cfg.batches, cfg.batch_ms)
    results = Results()
    out = cfg.path("bench-results")
    with Session() as s:
        note = measure(s, cfg, client, results)
        os.makedirs(out, exist_ok=True)
        write_csv(results, os.path.join(out, "results.csv"))
        print_tables(results, cfg.trials)
        print_seq_tables(results, cfg)
        print_fleet_tables(results, cfg)
        print_targets(results, cfg.trials)
        if note:
            print(note)
        chart.draw(results, s.work, os.path.join(out, "results.png"), cfg.trials)
    print("bench: table in bench-results/results.csv")
    return 0


def load():
    """The load averages, as /proc/loadavg's first three fields."""
    with open("/proc/loadavg", encoding="utf-8") as f:
        return " ".join(f.read().split()[:3])


def stop_on_signal(signum, _frame):
    """SIGTERM and SIGHUP end the run as Ctrl-C does: through Session.close()."""
    raise SystemExit(128 + signum)


def main():
    """Runs the benchmark; 130 on Ctrl-C, 1 when a setup could not be measured at all."""
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    cfg = config()
    began, load_before, cpus = time.monotonic(), load(), os.cpu_count()
    if float(load_before.split()[0]) > cpus / 2:
        print(f"bench: WARNING: the machine is busy (load average {load_before} on {cpus} "
              "CPUs): expect noise")
    try:
        status = run(cfg)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except (MountError, subprocess.CalledProcessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    print(f"bench: {cpus} CPUs; load average before the measurements {load_before}, "
          f"after {load()}")
    print(f"bench: done in {time.monotonic() - began:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
