# SPDX-License-Identifier: MIT
"""The sequence counter's tables (seq_phases' rows, each beside its baseline) and its targets:
no mixed snapshot with seq=, notification under 200 µs (under 1 ms with poll_ms=1000), seq=
within 10% through the mount, a seq= daemon at rest uses no CPU."""

from results import PINS
from seq_phases import IDLE_S, IDLE_SETUPS, NOTIFY_SETUPS

KINDS = (("json", ".json"), ("raw", ".raw"), ("name", "name (char[24])"),
         ("mapping", "mapping snapshot"))
NOTIFY_BOUNDS = {"seq-poll10": 200.0, "seq-poll1000": 1000.0}
COST_BOUND = 1.10


def cell(v, digits=0):
    """A number, or ? when unknown."""
    return "?" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    """a / b with 2 decimals (3 below 1), or ?."""
    if a is None or not b:
        return "?"
    return f"{a / b:.3f}" if a < b else f"{a / b:.2f}"


def snapshot_table(res):
    """Mixed reads with seq= and without, per reader."""
    m = lambda setup, kind, key: res.median(setup, "unpinned", f"snap-{kind}-{key}")
    print("\nSequence counter (-o seq=seq on struct pos), mixed snapshots, unpinned: two protocol "
          "writers\n(SeqLock, Mapped<pos>::update) store x = i, y = -i, name = i as fast as they "
          "can;\nreaders pread .json, .raw and name on held descriptors, one copies the mapping\n"
          "(Mapped<pos>::snapshot with seq=, plain loads without). mixed: not one stored state;\n"
          "eagain: the read failed with EAGAIN.")
    fmt = "%-17s %10s %8s %7s %12s %9s %7s"
    print(fmt % ("reader", "seq reads", "mixed", "eagain", "no-seq reads", "mixed", "eagain"))
    for kind, label in KINDS:
        print(fmt % (label, *(cell(m(setup, kind, key)) for setup in ("seq", "noseq")
                              for key in ("reads", "mixed", "eagain"))))
    seconds = [res.median(setup, "unpinned", "snap-seconds") for setup in ("seq", "noseq")]
    print(f"seconds: seq {cell(seconds[0], 1)}, no seq {cell(seconds[1], 1)}")


def notify_table(res, trials):
    """Store → epoll_wait latency per setup, and its ratio to sampling."""
    print(f"\nNotification, µs from a protocol store on the mapping to the return of an epoll_wait"
          f"\n(EPOLLPRI) blocked on the field file; of {trials} trials in turn, the one with the "
          "lowest\nmedian. ×sampling: median ÷ the median without seq= (poll_ms=10), same pinning.")
    fmt = "%-9s %-14s %10s %10s %10s %10s"
    print(fmt % ("pinning", "setup", "median", "p99", "max", "×sampling"))
    for pin in PINS:
        base = res.median("noseq-poll10", pin, "notify-median")
        for name, _, _ in NOTIFY_SETUPS:
            med, p99, top = (res.median(name, pin, f"notify-{k}") for k in ("median", "p99", "max"))
            print(fmt % (pin, name, cell(med), cell(p99), cell(top), ratio(med, base)))


def cost_table(res):
    """seq= against no seq= through the mount; a write section against two stores."""
    print("\nCost, pinned, µs per op, best of alternating trials (no poller): through the mount "
          "with\nseq= and without; on the mapping, Mapped<T>::update of a struct of two fields and "
          "its counter\n(enter, 2 stores, leave and FUTEX_WAKE) and two plain atomic stores.")
    fmt = "%-34s %10s %10s %8s"
    print(fmt % ("operation", "seq=", "baseline", "ratio"))
    for op, label in (("seq-pwrite", "pwrite x, held fd"), ("seq-json", "pread .json, held fd")):
        a, b = res.median("seq", "pinned", op), res.median("noseq", "pinned", op)
        print(fmt % (label, cell(a, 2), cell(b, 2), ratio(a, b)))
    a, b = res.median("update", "pinned", "seq-mapping"), res.median("stores", "pinned",
                                                                      "seq-mapping")
    print(fmt % ("x, y: Mapped::update vs 2 stores", cell(a, 4), cell(b, 4), ratio(a, b)))


def idle_table(res):
    """CPU time of daemons at rest."""
    print(f"\nIdle, CPU time (utime+stime, 10 ms ticks) of a daemon in {IDLE_S} s with no writer")
    for name, options, pollers in IDLE_SETUPS:
        what = f"-o {options or 'poll_ms=10'}, {pollers or 'no'} pollers in epoll"
        print(f"{name:<17} {cell(res.median(name, 'unpinned', 'seq-idle-cpu')):>4} ms  ({what})")


def print_seq_tables(res, cfg):
    """Every sequence-counter table."""
    snapshot_table(res)
    notify_table(res, cfg.trials)
    cost_table(res)
    idle_table(res)


def seq_targets(res, v):
    """Judged with targets.Verdicts: 0 mixed with seq=, notification bounds, cost, idle."""
    for kind, label in KINDS:
        reads, mixed = (res.median("seq", "unpinned", f"snap-{kind}-{k}")
                        for k in ("reads", "mixed"))
        base = res.median("noseq", "unpinned", f"snap-{kind}-mixed")
        if reads is None or mixed is None:
            v.skip(f"seq=, {label} while protocol writers store: not measured")
        else:
            v.judge(mixed == 0, f"seq=, {label}: {mixed:.0f} mixed of {reads:.0f} reads "
                                f"(target 0; without seq= {cell(base)})")
    for pin in PINS:
        for name, bound in NOTIFY_BOUNDS.items():
            med = res.median(name, pin, "notify-median")
            if med is None:
                v.skip(f"{name} {pin} notification: not measured")
            else:
                v.judge(med < bound, f"{name} {pin} notification median {med:.0f} µs (target < "
                                     f"{bound:.0f} µs; sampling "
                                     f"{cell(res.median('noseq-poll10', pin, 'notify-median'))})")
    for op, label in (("seq-pwrite", "pwrite"), ("seq-json", ".json pread")):
        a, b = res.median("seq", "pinned", op), res.median("noseq", "pinned", op)
        if a is None or not b:
            v.skip(f"seq= pinned {label} vs without: not measured")
        else:
            v.judge(a <= COST_BOUND * b, f"seq= pinned {label}: {a / b:.3f}× without seq= "
                                         f"(target ≤ {COST_BOUND:.2f}×)")
    rest = res.median("seq-rest", "unpinned", "seq-idle-cpu")
    if rest is None:
        v.skip("seq= idle: not measured")
    else:
        v.judge(rest == 0, f"seq= idle: {rest:g} ms of CPU in {IDLE_S} s (target: 0)")
