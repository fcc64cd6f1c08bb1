# SPDX-License-Identifier: MIT
"""What a benchmark run starts and must stop: its temporary directories, its shared-memory
segments, the FUSE daemons on their mountpoints and Redis. Session.close() unmounts every mount
and reaps every process the run started, whatever ended it (an error, Ctrl-C, SIGTERM); stop()
reports a daemon that did not exit 0."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from client import on


class MountError(Exception):
    """A daemon exited, or its file did not appear, before the mount was ready."""


@dataclass
class Daemon:
    """A FUSE daemon started with -f on mnt, and how long its file took to appear."""

    mnt: str
    proc: subprocess.Popen
    mount_ms: float = 0.0


def is_mounted(path):
    """Whether a FUSE filesystem is mounted on path (the fields of /proc/self/mounts)."""
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        return any(f[1] == path and f[2].startswith("fuse")
                   for f in (line.split() for line in mounts))


def unmount(path):
    """fusermount3 -u, and -uz (lazy) if the mount is busy; nothing if path is not mounted."""
    for flags in ("-u", "-uz"):
        if not is_mounted(path):
            return
        subprocess.run(["fusermount3", flags, path], stderr=subprocess.DEVNULL, check=False)


def reap(proc, timeout):
    """Waits for proc; SIGTERM after timeout seconds, SIGKILL 5 s later. Returns its status."""
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
    try:
        return proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def wait_for(path, proc, start, timeout_s):
    """Polls stat(path) until it succeeds; returns the milliseconds since start (monotonic)."""
    while True:
        try:
            os.stat(path)
            return (time.monotonic() - start) * 1e3
        except OSError:
            pass
        if proc.poll() is not None:
            raise MountError(f"the daemon exited with status {proc.returncode} "
                             f"before {path} appeared")
        if time.monotonic() - start > timeout_s:
            raise MountError(f"{path} did not appear in {timeout_s} s")
        time.sleep(0.0002)


class Session:
    """Owns what the run creates; use as a context manager so that close() always runs."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="fieldfs-bench.", dir="/tmp")
        self.shmdir = tempfile.mkdtemp(prefix="fieldfs-bench-tmpfs.", dir="/dev/shm")
        self.seg = f"fieldfs-bench-{os.getpid()}"
        self.log = os.path.join(self.work, "daemons.log")
        self.daemons = []
        self.redis = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        self.close(failed=kind is not None)

    def mount(self, pin, file, argv):
        """Starts argv + [a new mountpoint] (on CPU 0 if pin is "pinned") in its own session,
        so that Ctrl-C reaches only this process, which unmounts it; waits for file to appear."""
        mnt = tempfile.mkdtemp(prefix="mnt.", dir=self.work)
        start = time.monotonic()
        with open(self.log, "ab") as log:
            proc = subprocess.Popen(on(pin, [*argv, mnt]), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, start_new_session=True)
        daemon = Daemon(mnt, proc)
        self.daemons.append(daemon)
        try:
            daemon.mount_ms = wait_for(os.path.join(mnt, file), proc, start, 180)
        except MountError:
            self.stop(daemon)
            raise
        return daemon

    def stop(self, daemon):
        """Unmounts and reaps a daemon; says so if it did not exit 0."""
        unmount(daemon.mnt)
        status = reap(daemon.proc, 30)
        if status != 0:
            how = f"status {status}" if status > 0 else f"signal {-status}"
            print(f"bench: WARNING: daemon {daemon.proc.pid} on {daemon.mnt} ended with {how}")
        self.daemons.remove(daemon)
        os.rmdir(daemon.mnt)

    def start_redis(self, client):
        """Starts redis-server on a free loopback port; returns the port, or None."""
        if shutil.which("redis-server") is None:
            print("bench: redis-server is not installed; no Redis rows")
            return None
        port = client.free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.work, "--logfile",
             os.path.join(self.work, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        return port if client.ping(port) else None

    def stop_redis(self):
        """Stops Redis if it runs."""
        if self.redis is not None:
            self.redis.terminate()
            reap(self.redis, 10)
            self.redis = None

    def close(self, failed):
        """Unmounts, reaps and removes everything, ignoring further Ctrl-C while it does."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for daemon in reversed(self.daemons):
            unmount(daemon.mnt)
            reap(daemon.proc, 5)
        self.daemons.clear()
        self.stop_redis()
        if failed and os.path.exists(self.log) and os.path.getsize(self.log) > 0:
            print("bench: failed; the daemons said:", file=sys.stderr)
            print(self.log_tail(5), end="", file=sys.stderr)
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.shmdir, ignore_errors=True)
        for seg in glob.glob(f"/dev/shm/{self.seg}") + glob.glob(f"/dev/shm/{self.seg}-*"):
            os.unlink(seg)

    def log_tail(self, lines):
        """The last lines of what the daemons wrote."""
        with open(self.log, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
