# SPDX-License-Identifier: MIT
"""The measurements: per-operation latency and concurrent readers for every setup, pinned and
unpinned; what readers see while the mapping changes (coherence); field-count scale; and the
idle daemon's CPU time. Each adds its rows to a Results."""

import contextlib
import os
import subprocess
import time

from results import FILE_OPS, READERS
from session import MountError


def latency(s, cfg, client, results, pin, redis_port):
    """Mounts every FUSE setup, times every operation on every setup in alternating trials,
    then concurrent readers, and unmounts."""
    seg = f"/dev/shm/{s.seg}"
    mounts = {
        "fieldfs": s.mount(pin, "bar", [cfg.fieldfs, "-f", s.seg]),
        "fieldfs-t2": s.mount(pin, "bar", [cfg.fieldfs, "-f", "-o", "threads=2", s.seg]),
        "nullfs": s.mount(pin, "value", [cfg.null_fs, "-f", "-s"]),
    }
    for mode in ("open", "noopen"):
        mounts["cache-" + mode] = s.mount(
            pin, "value", [cfg.null_fs, "-f", "-s", "-o", f"cache={mode},segment={seg}"])
    files = {name: os.path.join(d.mnt, "bar" if name.startswith("fieldfs") else "value")
             for name, d in mounts.items()}
    files["tmpfs"] = os.path.join(s.shmdir, "value")
    fses = [(name, files[name]) for name in ("nullfs", "fieldfs", "fieldfs-t2", "tmpfs")]
    prototypes = [(name, files[name]) for name in ("cache-open", "cache-noopen")]
    for op in FILE_OPS:
        setups = fses + prototypes if op in ("orc", "cat", "pread") else fses
        best_rows(client, results, pin, op, setups, cfg.trials)
    for op in ("load", "store"):
        best_rows(client, results, pin, op, [("mmap", seg)], cfg.trials)
    if redis_port:
        cpus = "0" if pin == "pinned" else f"0-{os.cpu_count() - 1}"
        subprocess.run(["taskset", "-a", "-pc", cpus, str(s.redis.pid)],
                       stdout=subprocess.DEVNULL, check=True)
        for op in ("get", "set"):
            best_rows(client, results, pin, op, [("redis", redis_port)], cfg.trials)
    concurrent(client, results, pin, fses)
    for name in ("cache-open", "cache-noopen", "nullfs", "fieldfs", "fieldfs-t2"):
        s.stop(mounts[name])


def best_rows(client, results, pin, op, setups, trials):
    """One row per setup: the best of `trials` alternating trials (Client.best_of)."""
    best = client.best_of(pin, op, setups, trials)
    for name, _ in setups:
        results.add(name, pin, op, "us/op", best.get(name))


def concurrent(client, results, pin, setups):
    """1, 2 and 4 reader processes on each setup, batch by batch in turn: aggregate ops/s."""
    for readers in READERS:
        summaries = client.conc(pin, readers, [file for _, file in setups])
        for (name, _), summary in zip(setups, summaries):
            results.add(name, pin, f"conc{readers}", "ops/s", summary)


def coherence(s, cfg, results):
    """What readers see while a process stores 7 and 12345 in turn to the mapping every 3 ms:
    fieldfs (direct_io) and the page-cache prototype sampling every 1 ms. Unpinned: the races
    need two CPUs. A wrong read is text that was never stored; a stale one got a value
    replaced more than 2 ms (twice the sampling period) before the read began."""
    seg = f"/dev/shm/{s.seg}"
    fieldfs = s.mount("unpinned", "bar", [cfg.fieldfs, "-f", s.seg])
    for setup in ("fieldfs", "cache-open", "cache-noopen"):
        daemon = fieldfs
        if setup != "fieldfs":
            option = f"cache={setup[6:]},segment={seg},poll_us=1000"
            daemon = s.mount("unpinned", "value", [cfg.null_fs, "-f", "-s", "-o", option])
        file = os.path.join(daemon.mnt, "bar" if daemon is fieldfs else "value")
        run = subprocess.run([cfg.coherence, str(cfg.coherence_s), "3000", "2000", file, seg],
                             stdout=subprocess.PIPE, text=True, check=False)
        for line in run.stdout.splitlines():
            coherence_rows(results, setup, line)
        if daemon is not fieldfs:
            s.stop(daemon)
    s.stop(fieldfs)


def coherence_rows(results, setup, line):
    """Rows from one line of bench/coherence: KIND reads=N wrong=W stale=S oldest_us=A."""
    kind, *pairs = line.split()
    for pair in pairs:
        key, _, value = pair.partition("=")
        key = key.removesuffix("_us")
        results.add_value(setup, "unpinned", f"coh-{kind}-{key}",
                          "us" if key == "oldest" else "reads", float(value))


def status_kib(pid, key):
    """A size in KiB from /proc/PID/status (VmRSS: resident; RssAnon: the private part the
    process itself allocated, not the shared libraries' pages)."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith(key + ":"):
                return float(line.split()[1])
    return None


def cpu_ms(pid):
    """The CPU time (utime + stime) a process has used, in ms."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def idle(s, cfg, results):
    """The CPU time idle mounted daemons (single-threaded and threads=2) use in 5 s."""
    daemons = {"fieldfs": s.mount("unpinned", "bar", [cfg.fieldfs, "-f", s.seg]),
               "fieldfs-t2": s.mount("unpinned", "bar",
                                     [cfg.fieldfs, "-f", "-o", "threads=2", s.seg])}
    for d in daemons.values():
        with open(os.path.join(d.mnt, "bar"), "rb") as field:
            field.read()
    time.sleep(1)
    before = {name: cpu_ms(d.proc.pid) for name, d in daemons.items()}
    time.sleep(5)
    for name, d in daemons.items():
        results.add_value(name, "unpinned", "idle-cpu", "ms", cpu_ms(d.proc.pid) - before[name])
        s.stop(d)


def header(work, fields):
    """Writes a C header of `fields` ints, f0, f1, ...; returns its path."""
    path = os.path.join(work, f"scale{fields}.h")
    with open(path, "w", encoding="utf-8") as out:
        out.write("struct scale {\n" + "".join(f"  int f{i};\n" for i in range(fields)) + "};\n")
    return path


def scale_counts(cfg, work):
    """The field counts to measure, and a note when this fieldfs cannot read C headers (then
    only the default struct's 2 fields)."""
    def says(args, text):
        out = subprocess.run([cfg.fieldfs, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, check=False).stdout
        return text in out
    if says(["--help"], "schema=") and \
            says(["--layout", "-o", f"schema={header(work, 3)}"], "f2"):
        return (2, 1000, 100000), None
    return (2,), "scale: needs -o schema (this fieldfs cannot read C headers yet); " \
                 "measured 2 fields only"


def scale(s, cfg, client, results):
    """fieldfs single-threaded, pinned, at 2, 1,000 and 100,000 fields: mount time, VmRSS and
    RssAnon, pread on the first and the last field, VmRSS after. Returns scale_counts' note."""
    counts, note = scale_counts(cfg, s.work)
    for n in counts:
        seg, setup = f"{s.seg}-scale{n}", f"scale-{n}"
        schema = [] if note else ["-o", f"schema={header(s.work, n)}"]
        first, last = ("bar", "baz") if note else ("f0", f"f{n - 1}")
        try:
            d = s.mount("pinned", last, [cfg.fieldfs, "-f", *schema, seg])
        except MountError as e:
            print(f"bench: scale: the mount with {n} fields failed: {e}\n{s.log_tail(3)}", end="")
            continue
        results.add_value(setup, "pinned", "mount", "ms", d.mount_ms)
        results.add_value(setup, "pinned", "rss-mounted", "KiB", status_kib(d.proc.pid, "VmRSS"))
        results.add_value(setup, "pinned", "anon-mounted", "KiB",
                          status_kib(d.proc.pid, "RssAnon"))
        for op, field in (("pread", first), ("pread-last", last)):
            summary = client.time("pinned", "pread", [os.path.join(d.mnt, field)])[0]
            results.add(setup, "pinned", op, "us/op", summary)
        results.add_value(setup, "pinned", "rss-after", "KiB", status_kib(d.proc.pid, "VmRSS"))
        s.stop(d)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"/dev/shm/{seg}")
    return note
