# SPDX-License-Identifier: MIT
"""Poll clients for the mount tests: python3 poll_client.py MODE FIELD SEGMENT [COUNT]

wait      poll(POLLPRI) with no timeout once, then print "released" and exit
follow    poll, re-read and re-arm until killed (load for the soak)
latency   COUNT times: read, change the field (via the mapping and via the mount), wait for
          epoll's EPOLLPRI; print "map MEDIAN_MS WORST_MS" and "mount MEDIAN_MS WORST_MS"
select    read, store through the mapping, wait in select() on the exceptional set
"""
import mmap
import os
import random
import select
import statistics
import struct
import sys
import threading
import time

mode, field, segment = sys.argv[1:4]
fd = os.open(field, os.O_RDONLY)
os.pread(fd, 100, 0)

if mode == "wait":
    p = select.poll()
    p.register(fd, select.POLLPRI)
    sys.stdout.write("waiting\n")
    sys.stdout.flush()
    p.poll()
    sys.stdout.write("released\n")
    sys.stdout.flush()
    sys.exit(0)

if mode == "follow":
    p = select.poll()
    p.register(fd, select.POLLPRI)
    while True:  # until killed: wake, re-read, re-arm
        p.poll()
        os.pread(fd, 100, 0)

mapping = mmap.mmap(os.open(segment, os.O_RDWR), 8)

if mode == "select":
    struct.pack_into("i", mapping, 0, 4242)
    _, _, exceptional = select.select([], [], [fd], 5)
    print("select", "ready" if exceptional == [fd] else "timeout", os.pread(fd, 100, 0).decode().strip())
    sys.exit(0)

def change(how, value, stamp):
    """Runs in another thread while the main thread is blocked in epoll."""
    time.sleep(0.002 + random.random() * 0.01)
    stamp.append(time.monotonic())
    if how == "map":
        struct.pack_into("i", mapping, 0, value)
    else:
        w = os.open(field, os.O_WRONLY)
        os.write(w, b"%d\n" % value)
        os.close(w)


count = int(sys.argv[4])
ep = select.epoll()
ep.register(fd, select.EPOLLPRI)
for how in ("map", "mount"):
    waits = []
    for i in range(count):
        os.pread(fd, 100, 0)
        ep.poll(0)  # level-triggered: settle any readiness left from the last round
        value = 1000 + i if how == "map" else -1000 - i
        stamp = []
        writer = threading.Thread(target=change, args=(how, value, stamp))
        writer.start()
        events = ep.poll(2)
        woke = time.monotonic()
        writer.join()
        waits.append((woke - stamp[0]) * 1000)
        if not events or not events[0][1] & select.EPOLLPRI:
            print("missed", how, i)
            sys.exit(1)
        if int(os.pread(fd, 100, 0)) != value:
            print("wrong value", how, i)
            sys.exit(1)
    print(how, "%.2f" % statistics.median(waits), "%.2f" % max(waits))
