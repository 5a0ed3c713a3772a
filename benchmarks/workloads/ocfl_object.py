"""An ``ocfl_object`` registry (issue 18: cost grows with new work, not with history):
``govern delta build`` over an OCFL object of ``ocfl_files`` files × ``ocfl_versions``
versions, the first build against the builds after it.

The object is written once (untimed) by this module, as ocfl-py would write it — sha512
digests (OCFL's default, so the plugin also hashes every content itself), forward deltas, an
inventory and sidecar in every version folder: a first version of ``ocfl_files`` files of
``ocfl_file_bytes`` bytes in 100 folders, then versions each modifying 1% of the files and
adding 0.2%. Three commands, measured alternately:

- the **first build**, from a cold start (no build, no validation cache): ocfl-py validates
  the object, every content file hashed, and every version is recorded;
- the **unchanged** build: the same object, built and cached (each round restores that
  state), built again at a later time — nothing new, the cache hit;
- the build **after one new version**: the same, with a version ``v(N+1)`` added (1% modified,
  0.2% added) before it, so it has one version to record and the object to read.

Rows: each of the last two over the first build. Target: the new-version build costs what the
new version does (its share of the object's files, ``1/ocfl_versions``), not what the object
does — ≤ 0.2× the first build (a generous bound: start-up and the inventories are read
whole by any build); the unchanged build the same.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

from benchmarks.context import BenchContext, Sizes
from benchmarks.generate import write_workspace
from benchmarks.report import WorkloadReport, compare_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 0.2
CONFIG = '[registries.archive]\nkind = "ocfl_object"\npath = "object"\n'
OBJECT_ID = "info:bench/ocfl-object"
FIRST_BUILD = "2030-01-01T00:00:00Z"
LATER_BUILD = "2030-01-02T00:00:00Z"
LATER_BUILD_RUN = "2030-01-02__000000__registry_delta_log_build"


class ObjectWriter:
    """Writes an OCFL 1.1 object version by version (deterministic content)."""

    def __init__(self, root: Path, files: int, file_bytes: int, seed: int = 18) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.file_bytes = file_bytes
        self.live = {f"d{i % 100:02d}/f{i:06d}.txt": "" for i in range(files)}
        self.next_id = files
        self.inventory: dict = {
            "id": OBJECT_ID,
            "type": "https://ocfl.io/1.1/spec/#inventory",
            "digestAlgorithm": "sha512",
            "head": "",
            "contentDirectory": "content",
            "manifest": {},
            "versions": {},
        }
        root.mkdir(parents=True)
        (root / "0=ocfl_object_1.1").write_text("ocfl_object_1.1\n")

    def _content(self, version: int, path: str) -> bytes:
        text = f"{path} v{version} ".encode()
        return (text + self.rng.randbytes(self.file_bytes // 2).hex().encode())[: self.file_bytes]

    def add_version(self) -> None:
        """Write the next version: all files (first), else 1% modified and 0.2% added."""
        number = len(self.inventory["versions"]) + 1
        name = f"v{number}"
        if number == 1:
            changed = list(self.live)
        else:
            files = len(self.live)
            changed = self.rng.sample(sorted(self.live), max(1, files // 100))
            added = [f"d{(self.next_id + k) % 100:02d}/f{self.next_id + k:06d}.txt" for k in range(max(1, files // 500))]
            self.next_id += len(added)
            changed += added
        for path in changed:
            data = self._content(number, path)
            digest = hashlib.sha512(data).hexdigest()
            content = f"{name}/content/{path}"
            target = self.root / content
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.inventory["manifest"][digest] = [content]
            self.live[path] = digest
        state: dict[str, list[str]] = {}
        for path, digest in sorted(self.live.items()):
            state.setdefault(digest, []).append(path)
        self.inventory["versions"][name] = {
            "created": f"2024-01-{number:02d}T00:00:00Z" if number <= 28 else f"2024-02-{number - 28:02d}T00:00:00Z",
            "message": f"version {number}",
            "user": {"name": "Bench", "address": "mailto:bench@example.org"},
            "state": state,
        }
        self.inventory["head"] = name
        data = json.dumps(self.inventory, indent=1, sort_keys=True).encode()
        sidecar = f"{hashlib.sha512(data).hexdigest()} inventory.json\n".encode()
        for folder in (self.root / name, self.root):
            (folder / "inventory.json").write_bytes(data)
            (folder / "inventory.json.sha512").write_bytes(sidecar)


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    workspace = root / "workspace"
    runs_root = write_workspace(ctx, workspace, CONFIG)
    config = workspace / "registry_config.toml"
    config.write_text(config.read_text().replace("[workspace]\n", '[workspace]\nrecord_version = "0.2"\n', 1))
    writer = ObjectWriter(workspace / "object", sizes.ocfl_files, sizes.ocfl_file_bytes)
    for _ in range(sizes.ocfl_versions):
        writer.add_version()
    # The states each round starts from, kept beside the workspace (untimed): the object at
    # N versions and at N+1 (the folder v(N+1) and the root inventory of each), and the
    # workspace as the first build leaves it (its runs root and validation cache).
    saved = root / "saved"
    cache = workspace / ".govern" / "cache"
    for name in ("inventory.json", "inventory.json.sha512"):
        (saved / "at_n").mkdir(parents=True, exist_ok=True)
        shutil.copy2(writer.root / name, saved / "at_n" / name)
    writer.add_version()
    new_version = writer.root / f"v{sizes.ocfl_versions + 1}"
    shutil.move(new_version, saved / "new_version")
    for name in ("inventory.json", "inventory.json.sha512"):
        (saved / "at_n1").mkdir(parents=True, exist_ok=True)
        shutil.move(writer.root / name, saved / "at_n1" / name)

    def object_at(versions: str) -> None:
        shutil.rmtree(new_version, ignore_errors=True)
        if versions == "at_n1":
            shutil.copytree(saved / "new_version", new_version)
        for name in ("inventory.json", "inventory.json.sha512"):
            shutil.copy2(saved / versions / name, writer.root / name)

    def cold_start() -> None:
        object_at("at_n")
        shutil.rmtree(cache, ignore_errors=True)
        for path in runs_root.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def built_state(versions: str) -> None:
        object_at(versions)
        shutil.rmtree(runs_root)
        shutil.copytree(saved / "runs_root", runs_root, symlinks=True)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(saved / "cache", cache)

    # The built state: one first build, kept.
    cold_start()
    ctx.setup(ctx.govern("-C", workspace, "delta", "build", "--at", FIRST_BUILD))
    shutil.copytree(runs_root, saved / "runs_root", symlinks=True)
    shutil.copytree(cache, saved / "cache")
    contents = sum(1 for path in writer.root.rglob("*") if path.is_file() and "/content/" in path.as_posix())
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{sizes.ocfl_files} files of {sizes.ocfl_file_bytes} B x {sizes.ocfl_versions} versions (sha512), "
        f"{contents} content files; {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    first = Command.single("first build (cold)", ctx.govern("-C", workspace, "delta", "build", "--at", FIRST_BUILD), prepare=cold_start)
    unchanged = Command.single(
        "build, object unchanged", ctx.govern("-C", workspace, "delta", "build", "--at", LATER_BUILD), prepare=lambda: built_state("at_n")
    )
    one_more = Command.single(
        "build after one new version", ctx.govern("-C", workspace, "delta", "build", "--at", LATER_BUILD), prepare=lambda: built_state("at_n1")
    )
    results = measure_alternately([first, unchanged, one_more], sizes.repeat, sizes.warmup)
    report.rows.append(
        compare_row(f"+1 version (v{sizes.ocfl_versions + 1}) vs first build", results[one_more.label], results[first.label], TARGET, f"<= {TARGET}")
    )
    report.rows.append(compare_row("unchanged object vs first build", results[unchanged.label], results[first.label], TARGET, f"<= {TARGET}"))
    return report


def _disk(sizes: Sizes) -> int:
    contents = sizes.ocfl_files + sizes.ocfl_versions * sizes.ocfl_files * 12 // 1000
    inventories = sizes.ocfl_versions * sizes.ocfl_versions * sizes.ocfl_files * 180
    return 3 * (contents * (sizes.ocfl_file_bytes + 200) + inventories)


WORKLOAD = Workload("ocfl_object", "an OCFL object's registry: first build vs one new version", _run, _disk)
