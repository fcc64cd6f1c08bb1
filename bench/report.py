# SPDX-License-Identifier: MIT
"""The report: bench-results/results.csv (every row with its ratios to the floor and to tmpfs)
and the printed tables (per operation, concurrent readers, scale, coherence, idle)."""

from results import COHERENCE, LABEL


def num(v):
    """A table cell: ? when unknown, 4 decimals below 1, else 2."""
    return "?" if v is None else f"{v:.4f}" if v < 1 else f"{v:.2f}"


def csv_num(v):
    """A CSV cell: ? when unknown, else at most 4 decimals without trailing zeros."""
    return "?" if v is None else f"{v:.4f}".rstrip("0").rstrip(".")


def ratio_text(r):
    """A ratio cell: empty when there is no ratio."""
    return "" if r is None else f"{r:.3f}"


def write_csv(results, path):
    """One line per row: setup,pinning,operation,unit,median,min,max,ratio_floor,ratio_tmpfs."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("setup,pinning,operation,unit,median,min,max,ratio_floor,ratio_tmpfs\n")
        for r in results.rows:
            cells = [r.setup, r.pin, r.op, r.unit, csv_num(r.median), csv_num(r.low),
                     csv_num(r.high), ratio_text(results.ratio(r, "nullfs")),
                     ratio_text(results.ratio(r, "tmpfs"))]
            out.write(",".join(cells) + "\n")


def ratio_table(results, unit, cell):
    """Rows of one unit (not scale, not seq_report's), a blank line where the pinning
    changes."""
    fmt = "%-9s %-11s %-18s %10s %10s %10s %8s %8s"
    last = None
    for r in results.rows:
        if r.unit != unit or r.setup.startswith("scale") or r.op not in LABEL:
            continue
        if r.pin != last:
            print()
            last = r.pin
        print(fmt % (r.pin, r.setup, LABEL[r.op], cell(r.median), cell(r.low), cell(r.high),
                     ratio_text(results.ratio(r, "nullfs")),
                     ratio_text(results.ratio(r, "tmpfs"))))


def latency_tables(results, trials):
    """The per-operation and the concurrent readers tables."""
    fmt = "%-9s %-11s %-18s %10s %10s %10s %8s %8s"
    print(f"\nPer operation, µs per op: of {trials} trials run in turn with the other setups, the "
          "one\nwith the lowest median of its batches (its median, min, max); ratios of those "
          "medians\nto the floor (nullfs) and to tmpfs, same pinning. Mapping and Redis rows are "
          "compared\nwith pread/pwrite. pinned: taskset -c 0 for the client and the daemon "
          "(fieldfs,\nnull fs, Redis); unpinned: neither.")
    print(fmt % ("pinning", "setup", "operation", "median", "min", "max", "×floor", "×tmpfs"))
    ratio_table(results, "us/op", num)
    print("\nConcurrent readers, aggregate ops/s (pread on held fds, one process each; one "
          "trial,\nbatch by batch in turn); ratios are the floor's (tmpfs's) rate over this one, "
          "so\nabove 1 is slower.")
    print(fmt % ("pinning", "setup", "readers", "median", "min", "max", "×floor", "×tmpfs"))
    ratio_table(results, "ops/s", lambda v: "?" if v is None else f"{v:.0f}")


def scale_table(results):
    """Mount time, memory and pread cost against the field count."""
    print("\nScale (fieldfs single-threaded, pinned): mount time, daemon VmRSS and RssAnon (its "
          "own\nmemory, without shared library pages), VmRSS after the preads, pread µs/op")
    fmt = "%-8s %10s %12s %12s %12s %12s %12s"
    print(fmt % ("fields", "mount ms", "RSS KiB", "anon KiB", "RSS after", "pread f0",
                 "pread last"))
    for r in results.rows:
        if r.setup.startswith("scale") and r.op == "mount":
            rss, anon, after, first, last = (
                results.median(r.setup, "pinned", op)
                for op in ("rss-mounted", "anon-mounted", "rss-after", "pread", "pread-last"))
            print(fmt % (r.setup[6:], num(r.median), csv_num(rss), csv_num(anon),
                         csv_num(after), num(first), num(last)))


def coherence_table(results):
    """Wrong and stale reads while the mapping changes."""
    print("\nCoherence, unpinned: readers of a field while a process stores 7 and 12345 in turn "
          "to the\nmapping every 3 ms. wrong: text never stored (torn, cut short or padded); "
          "stale: a value\nreplaced more than 2 ms before the read began (the prototype samples "
          "every 1 ms).")
    fmt = "%-13s %-9s %10s %8s %8s %12s"
    print(fmt % ("setup", "reader", "reads", "wrong", "stale", "oldest µs"))
    for setup in COHERENCE:
        for kind in ("whole", "bytewise"):
            m = [results.median(setup, "unpinned", f"coh-{kind}-{k}")
                 for k in ("reads", "wrong", "stale", "oldest")]
            if m[0] is not None:
                print(fmt % (setup, kind, *(csv_num(v) for v in m)))


def idle_table(results):
    """CPU time of idle daemons."""
    print("\nIdle: CPU time (utime+stime) an idle mounted daemon used in 5 s")
    for r in results.rows:
        if r.op == "idle-cpu":
            print(f"{r.setup:<11} {csv_num(r.median)} ms")


def print_tables(results, trials):
    """Every table, in the order the run measured them."""
    latency_tables(results, trials)
    scale_table(results)
    coherence_table(results)
    idle_table(results)
