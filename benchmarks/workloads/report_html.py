"""The HTML report of a large log: a registry of 10,000 transitions (issue 17), rendered by
govern and loaded in the same headless Chromium as the browser tests (tests/chromium.py).

The log is synthetic — records written straight into the registry's model, not built from
10,000 sealed runs, which would measure the delta build instead — over 2,000 paths: each
transition modifies three, and adds and removes one every tenth; one in 500 has basis
unknown. Rows, each against the issue's 2 s budget: govern rendering the registry's pages
(in-process), and Chromium loading its first transitions page (500 transitions: the timeline,
the records and the paths changed) and its first paths page (1,000 paths' histories), from
``goto`` to the ``load`` event. No request leaves ``file://`` (they are counted).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.context import BenchContext, Sizes
from benchmarks.report import WorkloadReport, budget_row
from benchmarks.timing import Measurement, Sample
from benchmarks.workloads import Workload

BUDGET_SECONDS = 2.0
PATHS = 2_000
_TESTS = Path(__file__).resolve().parent.parent.parent / "tests"


def _ref(number: int) -> dict[str, Any]:
    day, second = divmod(number, 86_400)
    run = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}__{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}__snapshot"
    return {"run_id": run, "run_root": ".codex/RUNS", "relpath": "data", "manifest_sha256": f"{number:064x}"}


def synthetic_records(transitions: int) -> list[dict[str, Any]]:
    """One registry's records: a bootstrap of :data:`PATHS` paths, then ``transitions`` more."""
    paths = [f"data/part-{i:05d}.jsonl" for i in range(PATHS)]
    records = [
        {"registry_id": "big_registry", "from_ref": None, "to_ref": _ref(0), "delta_basis": "manifest_diff", "added_paths": paths,
         "removed_paths": [], "modified_paths": [], "counts": {"added": len(paths), "removed": 0, "modified": 0}}
    ]
    for n in range(1, transitions + 1):
        record: dict[str, Any] = {"registry_id": "big_registry", "from_ref": _ref(n - 1), "to_ref": _ref(n)}
        if n % 500 == 0:
            record.update(delta_basis="unknown", added_paths=[], removed_paths=[], modified_paths=[], counts=None, unknown_reason="seal does not verify")
        else:
            modified = sorted({paths[(n * 7 + k * 131) % PATHS] for k in range(3)})
            added = [f"data/new-{n:05d}.jsonl"] if n % 10 == 0 else []
            removed = [f"data/new-{n - 10:05d}.jsonl"] if n % 10 == 0 and n > 10 else []
            record.update(delta_basis="manifest_diff", added_paths=added, removed_paths=removed, modified_paths=modified,
                          counts={"added": len(added), "removed": len(removed), "modified": len(modified)})
        records.append(record)
    return records


def _registry(transitions: int) -> Any:
    from govern.governance.evidence import registry_records
    from govern.governance.html_site import LoggedTransition, RegistrySite
    from govern.log.query import select_transitions

    records = synthetic_records(transitions)
    logged = tuple(LoggedTransition(line, t) for line, t in enumerate(select_transitions(records, registry="big_registry"), start=1))
    return RegistrySite("big_registry", "sealed", "covered", None, registry_records(records)[0], logged)


def _run(ctx: BenchContext) -> WorkloadReport:
    from govern.governance.html_pages import paths_page_name, registry_page_name, registry_pages

    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    registry = _registry(sizes.html_transitions)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{sizes.html_transitions:,} transitions over {PATHS:,} paths; {sizes.repeat} rounds after {sizes.warmup} warm-up; Chromium headless",
    )
    render = Measurement("govern: the registry's pages")
    files: dict[str, bytes] = {}
    for round_number in range(sizes.warmup + sizes.repeat):
        start = time.perf_counter()
        files = registry_pages(registry, ("2024-12-31__000000__registry_delta_log_build", "LOG.jsonl"))
        elapsed = time.perf_counter() - start
        if round_number >= sizes.warmup:
            render.samples.append(Sample(elapsed, 0))
    for relpath, data in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(data)
    biggest = max(len(data) for data in files.values())
    report.rows.append(budget_row(f"render {len(files)} pages", render, BUDGET_SECONDS, "< 2 s", f"largest page {biggest / 1e6:.1f} MB"))
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    from playwright.sync_api import sync_playwright

    from chromium import chromium_path, launch_chromium

    pages = {"first transitions page": registry_page_name(registry, 1), "first paths page": paths_page_name(registry, 1)}
    loads = {label: Measurement(f"chromium: {label}") for label in pages}
    if chromium_path() is None:
        for measurement in loads.values():
            measurement.skipped = "chromium is not installed (scripts/ensure-chromium.sh)"
    else:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            off_file: list[str] = []
            for round_number in range(sizes.warmup + sizes.repeat):
                for label, name in pages.items():
                    page = browser.new_page()
                    page.on("request", lambda request: off_file.append(request.url) if not request.url.startswith("file://") else None)
                    start = time.perf_counter()
                    page.goto((root / "registries" / name).as_uri(), wait_until="load")
                    elapsed = time.perf_counter() - start
                    page.close()
                    if round_number >= sizes.warmup:
                        loads[label].samples.append(Sample(elapsed, 0))
            browser.close()
        if off_file:
            report.notes.append(f"requests that left file:// (there must be none): {off_file[:3]}")
    for label, name in pages.items():
        size = len(files[f"registries/{name}"])
        report.rows.append(budget_row(f"load the {label}", loads[label], BUDGET_SECONDS, "< 2 s (goto to load)", f"{size / 1e6:.1f} MB"))
    return report


def _disk(sizes: Sizes) -> int:
    return sizes.html_transitions * 4_000


WORKLOAD = Workload("report_html", "the HTML report of a 10,000-transition log in headless Chromium", _run, _disk)
