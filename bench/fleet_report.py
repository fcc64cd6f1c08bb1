# SPDX-License-Identifier: MIT
"""The fleet's tables (fleet_phases' rows, each beside its baseline) and its targets: reads stay
local (pread with etcd within 10% of without), every write reached the other host, no
compare-and-set increment lost."""

from fleet_phases import HOSTS, PIN, PROP_SETUPS
from seq_report import cell, ratio

READ_BOUND = 1.10
FLOOR = {"fleet-read": "local-read", "fleet-poll": "local-poll"}
WHAT = {"fleet-read": "h1 write → h2 pread loop reads it",
        "fleet-poll": "h1 write → h2 epoll (EPOLLPRI) woken",
        "local-read": "write → pread loop, one mount, no etcd",
        "local-poll": "write → epoll woken, one mount, no etcd"}


def prop_table(res, cfg):
    """Write → seen per setup, and its ratio to the floor on one mount."""
    print(f"\nFleet (-o etcd=, 3-member etcd cluster and hosts h1 h2 h3 in network namespaces), "
          f"unpinned.\nPropagation, µs from the pwrite of field x through a mount to another "
          f"reader seeing it;\n{cfg.notify_samples} writes per trial, of {cfg.trials} trials "
          "the one with the lowest median.\n×floor: median ÷ the same on one mount without "
          "etcd.")
    fmt = "%-11s %-41s %9s %9s %9s %7s"
    print(fmt % ("setup", "what", "median", "p99", "max", "×floor"))
    for name, *_ in PROP_SETUPS:
        med, p99, top = (res.median(name, PIN, f"fleet-prop-{k}") for k in ("median", "p99", "max"))
        base = res.median(FLOOR.get(name, name), PIN, "fleet-prop-median")
        print(fmt % (name, WHAT[name], cell(med), cell(p99), cell(top),
                     ratio(med, base) if name in FLOOR else ""))


def cost_table(res):
    """A field write and read through h1's mount ÷ the mount without etcd."""
    print("\nCost, µs per op on a held descriptor, best of alternating trials: h1's mount "
          "(etcd) and a\nmount of the same schema without etcd (root namespace, same machine).")
    fmt = "%-20s %10s %10s %8s"
    print(fmt % ("operation", "etcd", "no etcd", "ratio"))
    for op in ("pwrite", "pread"):
        a, b = res.median("etcd", PIN, f"fleet-{op}"), res.median("noetcd", PIN, f"fleet-{op}")
        print(fmt % (f"{op} x", cell(a, 2), cell(b, 2), ratio(a, b)))


def cas_table(res, cfg):
    """Compare-and-set increments per second, per host and in all."""
    print(f"\nCompare-and-set through .json (read, x + 1 with the seq read, write; EAGAIN "
          f"retried),\n{cfg.coherence_s} s: three hosts at once, and one process on the mount "
          "without etcd.")
    m = lambda setup, op: res.median(setup, PIN, f"fleet-cas-{op}")
    fmt = "%-8s %9s %9s %9s %9s %9s %5s"
    print(fmt % ("setup", *HOSTS, "total/s", "eagain", "lost"))
    print(fmt % ("fleet-3", *(cell(m("fleet-3", i + 1)) for i in range(len(HOSTS))),
                 cell(m("fleet-3", "total")), cell(m("fleet-3", "eagain")),
                 cell(m("fleet-3", "lost"))))
    print(fmt % ("local-1", cell(m("local-1", 1)), "", "", cell(m("local-1", "total")),
                 cell(m("local-1", "eagain")), cell(m("local-1", "lost"))))


def print_fleet_tables(res, cfg):
    """Every fleet table; one line when the fleet was not measured."""
    if res.median("fleet-read", PIN, "fleet-prop-median") is None and \
            res.median("etcd", PIN, "fleet-pread") is None:
        print("\nFleet (-o etcd=): not measured")
        return
    prop_table(res, cfg)
    cost_table(res)
    cas_table(res, cfg)


def fleet_targets(res, v):
    """Judged with targets.Verdicts: reads stay local, writes arrive, no increment lost."""
    a, b = res.median("etcd", PIN, "fleet-pread"), res.median("noetcd", PIN, "fleet-pread")
    if a is None or not b:
        v.skip("fleet: pread with etcd vs without: not measured")
    else:
        v.judge(a <= READ_BOUND * b, f"fleet: pread with etcd {a / b:.3f}× without "
                                     f"(target ≤ {READ_BOUND:.2f}×: reads stay local)")
    for name in FLOOR:
        top = res.median(name, PIN, "fleet-prop-max")
        if top is None:
            v.skip(f"fleet: {name}: not measured")
        else:
            v.judge(top < 5e6, f"fleet: {name}: every write seen, slowest {top / 1e3:.1f} ms "
                               "(target: all within 5 s)")
    lost = res.median("fleet-3", PIN, "fleet-cas-lost")
    if lost is None:
        v.skip("fleet: compare-and-set from three hosts: not measured")
    else:
        v.judge(lost == 0, f"fleet: compare-and-set from three hosts: {lost:g} increments lost "
                           "(target 0: every host ends at the sum)")
