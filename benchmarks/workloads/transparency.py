"""The transparency log's Merkle tree (issue 14): the root of a ``tlog_records``-record log from
scratch, and appending one record to it.

The root is measured against its floor: the same records hashed by bare ``hashlib.sha256``
calls in one Python loop — two calls a record (a leaf hash, and one 65-byte node hash in place
of the interior node the tree makes per leaf), ``2 × tlog_records`` calls in all, on the same
bytes. Target: the root within 1.5× the floor. Appending one record to the tree (its compact
range extended, then the new root) has an absolute budget: < 5 ms of tree work.

Both are measured in this process (the work is pure hashing: no file, no start-up to count),
the rounds alternating as for the commands of the other workloads. Records are delta-record
sized lines of varied bytes, made once, untimed.
"""

from __future__ import annotations

import hashlib
import resource
import sys
import time
from collections.abc import Callable

from benchmarks.context import BenchContext, Sizes
from benchmarks.report import WorkloadReport, budget_row, compare_row
from benchmarks.timing import Measurement, Sample
from benchmarks.workloads import Workload

TARGET = 1.5
APPEND_BUDGET_SECONDS = 0.005
#: Appends timed per round (one record each, each on the tree of ``tlog_records``): their median is the round's sample.
APPENDS_PER_ROUND = 200


def _records(count: int) -> list[bytes]:
    """``count`` distinct record lines of about 140 bytes, like the delta log's (shorter)."""
    return [
        b'{"counts":{"added":%d},"registry_id":"reg_%03d","to_ref":{"manifest_sha256":"%s","run_id":"2030-01-01__%06d__s"}}'
        % (i % 7, i % 100, hashlib.sha256(i.to_bytes(8, "big")).hexdigest().encode(), i % 1_000_000)
        for i in range(count)
    ]


def _floor(records: list[bytes]) -> None:
    """Two bare SHA-256 calls a record in one loop: the least a Python Merkle tree can pay."""
    sha256 = hashlib.sha256
    for record in records:
        leaf = sha256(b"\x00" + record).digest()
        sha256(b"\x01" + leaf + leaf).digest()


def _peak_bytes() -> int:
    """This process's peak RSS (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _run(ctx: BenchContext) -> WorkloadReport:
    from govern.format.merkle import CompactRange, leaf_hashes_of, root_of_records

    sizes = ctx.sizes
    records = _records(max(1, sizes.tlog_records))
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{len(records):,} records of ~{len(records[0])} B, in-process; {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    root = Measurement("govern.format.merkle.root_of_records")
    floor = Measurement(f"{2 * len(records):,} bare hashlib.sha256 calls")
    for round_number in range(sizes.warmup + sizes.repeat):
        pair = [(root, lambda: root_of_records(records)), (floor, lambda: _floor(records))]
        for measurement, work in pair if round_number % 2 == 0 else reversed(pair):
            seconds = _timed(work)
            if round_number >= sizes.warmup:
                measurement.samples.append(Sample(seconds, _peak_bytes()))
    report.rows.append(compare_row(f"root of {len(records):,} records from scratch", root, floor, TARGET, f"<= {TARGET}x the bare-SHA-256 floor"))

    tree = CompactRange.of(leaf_hashes_of(records))  # the tree a build keeps: untimed set-up
    extra = _records(APPENDS_PER_ROUND)
    append = Measurement("CompactRange.append + root")
    for round_number in range(sizes.warmup + sizes.repeat):
        times = sorted(_timed(lambda record=record: tree.append(leaf_hashes_of([record])).root()) for record in extra)
        if round_number >= sizes.warmup:
            append.samples.append(Sample(times[len(times) // 2], _peak_bytes()))
    typical = f"{append.median * 1e6:.0f} µs, " if append.median is not None else ""
    note = f"{typical}the median of {APPENDS_PER_ROUND} appends a round"
    report.rows.append(budget_row(f"append 1 record to {len(records):,}", append, APPEND_BUDGET_SECONDS, "< 5 ms of tree work", note))
    return report


def _disk(sizes: Sizes) -> int:
    return 0  # everything is in memory


WORKLOAD = Workload("transparency", "the transparency log's Merkle tree: root from scratch, one append", _run, _disk)
