# SPDX-License-Identifier: MIT
"""Runs the C++ client (bench/fieldfs_bench.cpp), pinned to CPU 0 or not, and reads its lines
of "median min max"; a failed run gives None for each of its targets and a warning."""

import subprocess
import sys


def on(pin, argv):
    """argv, run on CPU 0 when pin is "pinned"."""
    return ["taskset", "-c", "0", *argv] if pin == "pinned" else list(argv)


def parse(line):
    """(median, min, max) from a client's line, or None."""
    try:
        median, low, high = (float(word) for word in line.split())
        return median, low, high
    except ValueError:
        return None


class Client:
    """fieldfs_bench with the run's batch settings."""

    def __init__(self, exe, batches, batch_ms):
        self.exe = exe
        self.batch = [str(batches), str(batch_ms)]

    def _run(self, pin, args):
        """The client's stdout, or None (with a warning) if it failed or took over 300 s."""
        try:
            return subprocess.run(on(pin, [self.exe, *args]), stdout=subprocess.PIPE,
                                  text=True, timeout=300, check=True).stdout
        except subprocess.CalledProcessError as e:
            failure = f"exited with status {e.returncode}"
        except subprocess.TimeoutExpired:
            failure = "took over 300 s"
        print(f"bench: WARNING: fieldfs_bench {' '.join(args)} {failure}", file=sys.stderr)
        return None

    def _summaries(self, pin, args, count):
        lines = (self._run(pin, args) or "").splitlines()
        return [parse(line) for line in lines[:count]] + [None] * (count - len(lines))

    def time(self, pin, op, targets):
        """µs per op of op on each target, batch by batch in turn: one summary per target."""
        return self._summaries(pin, ["time", op, *self.batch, *targets], len(targets))

    def conc(self, pin, readers, files):
        """Aggregate ops/s of `readers` processes preading each file: one summary per file."""
        return self._summaries(pin, ["conc", str(readers), *self.batch, *files], len(files))

    def best_of(self, pin, op, setups, trials):
        """Times op on each (name, target) alone, in turn (A B A B ...), `trials` times; returns
        {name: the trial with the lowest median}. The best trial is the one the machine's other
        work disturbed least, so that ratios of best to best compare the setups themselves. A
        setup whose trial fails is not tried again: a failure is not noise."""
        return self.best_of_runs(pin, [(name, op, target) for name, target in setups], trials)

    def best_of_runs(self, pin, runs, trials):
        """best_of for (name, op, target) runs whose operations differ."""
        best, failed = {}, set()
        for _ in range(trials):
            for name, op, target in runs:
                if name in failed:
                    continue
                summary = self.time(pin, op, [target])[0]
                if summary is None:
                    failed.add(name)
                    best.pop(name, None)
                elif name not in best or summary[0] < best[name][0]:
                    best[name] = summary
        return best

    def free_port(self):
        """A free TCP port on 127.0.0.1, as text."""
        return subprocess.run([self.exe, "freeport"], stdout=subprocess.PIPE, text=True,
                              check=True).stdout.strip()

    def ping(self, port):
        """Whether Redis answers PING on port within 10 s."""
        return subprocess.run([self.exe, "ping", port, "10"], check=False).returncode == 0
