# SPDX-License-Identifier: MIT
"""Python readers of a mount for the -o seq= tests (SPEC §8):

  python3 seq_client.py json MOUNT SECONDS
  python3 seq_client.py raw MOUNT SECONDS X_AT Y_AT NAME_AT NAME_SIZE

read .json (json.loads) or .raw (struct) in a loop for SECONDS while a writer publishes
x = i, y = -i, name = "i/i" in sections; a read that shows any other combination (besides the
all-zero start) is mixed. Prints "reads N mixed M eagain E" and the first mixed read, if any.
"""
import errno
import json
import os
import struct
import sys
import time


def consistent(x, y, name):
    return (x, y, name) == (0, 0, "") or (y == -x and name == "%d/%d" % (x, x))


def read_json(mount):
    doc = json.loads(read(mount + "/.json"))
    return doc["x"], doc["y"], doc["name"]


def read_raw(mount, x_at, y_at, name_at, name_size):
    data = read(mount + "/.raw")
    (x,) = struct.unpack_from("<i", data, x_at)
    (y,) = struct.unpack_from("<i", data, y_at)
    name = data[name_at:name_at + name_size].split(b"\0")[0].decode()
    return x, y, name


def read(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def main():
    kind, mount, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    offsets = [int(a) for a in sys.argv[4:]]
    reads = mixed = eagain = 0
    first = None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            state = read_json(mount) if kind == "json" else read_raw(mount, *offsets)
        except OSError as e:
            if e.errno != errno.EAGAIN:
                raise
            eagain += 1
            continue
        reads += 1
        if not consistent(*state):
            mixed += 1
            first = first or state
    print("reads %d mixed %d eagain %d" % (reads, mixed, eagain))
    if first:
        print("first mixed:", first)


main()
