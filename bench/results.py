# SPDX-License-Identifier: MIT
"""The benchmark's measurements as rows (setup, pinning, operation, unit, median, min, max), the
names the report gives them, and the ratios that compare one row with another."""

from dataclasses import dataclass

PINS = ("pinned", "unpinned")
FILE_OPS = ("orc", "cat", "pread", "owc", "pwrite")
FSES = ("nullfs", "fieldfs", "fieldfs-t2", "tmpfs")
PROTOTYPES = ("cache-open", "cache-noopen")
COHERENCE = ("fieldfs",) + PROTOTYPES
READERS = (1, 2, 4)

LABEL = {
    "orc": "open+read+close", "cat": "read to EOF (cat)", "pread": "pread, held fd",
    "owc": "open+write+close", "pwrite": "pwrite, held fd", "load": "load (mapping)",
    "store": "store (mapping)", "get": "GET", "set": "SET",
    "conc1": "1 reader", "conc2": "2 readers", "conc4": "4 readers",
}

# A mapping's load and a Redis GET are compared with pread on a held descriptor, a store and a
# SET with pwrite: the file operation that does the same work.
BASE = {"load": "pread", "get": "pread", "store": "pwrite", "set": "pwrite"}


@dataclass
class Row:
    """One measurement; median, low and high are None when it could not be made."""

    setup: str
    pin: str
    op: str
    unit: str
    median: float | None
    low: float | None
    high: float | None


class Results:
    """The rows in the order they were measured, and their medians by (setup, pinning, op)."""

    def __init__(self):
        self.rows = []
        self._median = {}

    def add(self, setup, pin, op, unit, summary):
        """Adds a row; summary is (median, min, max) or None when the measurement failed."""
        median, low, high = summary if summary else (None, None, None)
        self.rows.append(Row(setup, pin, op, unit, median, low, high))
        self._median[setup, pin, op] = median

    def add_value(self, setup, pin, op, unit, value):
        """Adds a row measured once: its median, min and max are the value."""
        self.add(setup, pin, op, unit, None if value is None else (value, value, value))

    def median(self, setup, pin, op):
        """The median of a row, or None if it was not measured."""
        return self._median.get((setup, pin, op))

    def ratio(self, row, ref):
        """row's median over the ref setup's median of the same operation and pinning, so that
        above 1 is slower (for ops/s the reference's rate over this one's); None where that
        means nothing (scale, idle, coherence rows) or a median is missing."""
        if row.setup.startswith("scale") or "/" not in row.unit:
            return None
        r = self.median(ref, row.pin, BASE.get(row.op, row.op))
        if not r or not row.median:
            return None
        return r / row.median if row.unit == "ops/s" else row.median / r
