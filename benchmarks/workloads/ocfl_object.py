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
import os
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
#: The object's root files a new version rewrites.
SIDE_FILES = ("inventory.json", "inventory.json.sha512")


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


def _workspace(ctx: BenchContext, directory: Path) -> Path:
    """A workspace writing record version 0.2 with the registry ``archive`` at ``object``; its runs root."""
    runs_root = write_workspace(ctx, directory, CONFIG)
    config = directory / "registry_config.toml"
    config.write_text(config.read_text().replace("[workspace]\n", '[workspace]\nrecord_version = "0.2"\n', 1))
    return runs_root


def _replace_file(source: Path, target: Path) -> None:
    """``target`` becomes a new file with ``source``'s bytes (never written through: it may be a hard link)."""
    target.unlink(missing_ok=True)
    shutil.copyfile(source, target)


class BuiltState:
    """A workspace's runs root and validation cache as a build left them, put back before a round."""

    def __init__(self, workspace: Path, saved: Path) -> None:
        self.runs_root = workspace / ".codex" / "RUNS"
        self.cache = workspace / ".govern" / "cache"
        self.saved = saved

    def save(self) -> None:
        shutil.copytree(self.runs_root, self.saved / "runs_root", symlinks=True)
        shutil.copytree(self.cache, self.saved / "cache")

    def restore(self) -> None:
        for live, kept in ((self.runs_root, "runs_root"), (self.cache, "cache")):
            shutil.rmtree(live, ignore_errors=True)
            shutil.copytree(self.saved / kept, live, symlinks=True)

    def wipe(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)
        for path in self.runs_root.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    # Two workspaces. `steady` holds the object at N versions and is never written after it is
    # made, so the validation cache its first build leaves stays valid (the fingerprint sees
    # every inode and status-change time): the first build and the unchanged build run there.
    # `grown` holds the same object (content files hard-linked, inventories its own copies)
    # and, before each of its rounds, the version N+1 moved in.
    steady, grown = root / "steady", root / "grown"
    _workspace(ctx, steady)
    _workspace(ctx, grown)
    writer = ObjectWriter(steady / "object", sizes.ocfl_files, sizes.ocfl_file_bytes)
    for _ in range(sizes.ocfl_versions):
        writer.add_version()
    shutil.copytree(steady / "object", grown / "object", copy_function=os.link)
    inventories = [path for path in (grown / "object").rglob("inventory.json*") if path.is_file()]
    for path in inventories:
        _replace_file(steady / "object" / path.relative_to(grown / "object"), path)
    grown_object = grown / "object"
    new_name = f"v{sizes.ocfl_versions + 1}"
    at_n = root / "saved" / "at_n"
    at_n.mkdir(parents=True)
    for name in SIDE_FILES:
        shutil.copyfile(grown_object / name, at_n / name)
    writer.root = grown_object  # the next version is written into `grown`'s object only
    writer.add_version()
    at_n1 = root / "saved" / "at_n1"
    shutil.move(grown_object / new_name, at_n1 / new_name)
    for name in SIDE_FILES:
        _replace_file(grown_object / name, at_n1 / name)
        _replace_file(at_n / name, grown_object / name)
    contents = sum(1 for path in (steady / "object").rglob("*") if path.is_file() and "/content/" in path.as_posix())

    steady_state = BuiltState(steady, root / "saved" / "steady")
    grown_state = BuiltState(grown, root / "saved" / "grown")
    for workspace, state in ((steady, steady_state), (grown, grown_state)):  # untimed: the built states
        ctx.setup(ctx.govern("-C", workspace, "delta", "build", "--at", FIRST_BUILD))
        state.save()

    def grown_by_one() -> None:
        grown_state.restore()
        shutil.rmtree(grown_object / new_name, ignore_errors=True)
        shutil.copytree(at_n1 / new_name, grown_object / new_name)
        for name in SIDE_FILES:
            _replace_file(at_n1 / name, grown_object / name)

    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{sizes.ocfl_files} files of {sizes.ocfl_file_bytes} B x {sizes.ocfl_versions} versions (sha512), "
        f"{contents} content files; {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )
    first = Command.single("first build (cold)", ctx.govern("-C", steady, "delta", "build", "--at", FIRST_BUILD), prepare=steady_state.wipe)
    unchanged = Command.single("build, object unchanged", ctx.govern("-C", steady, "delta", "build", "--at", LATER_BUILD), prepare=steady_state.restore)
    one_more = Command.single("build after one new version", ctx.govern("-C", grown, "delta", "build", "--at", LATER_BUILD), prepare=grown_by_one)
    results = measure_alternately([first, unchanged, one_more], sizes.repeat, sizes.warmup)
    report.rows.append(
        compare_row(f"+1 version ({new_name}) vs first build", results[one_more.label], results[first.label], TARGET, f"<= {TARGET}")
    )
    report.rows.append(compare_row("unchanged object vs first build", results[unchanged.label], results[first.label], TARGET, f"<= {TARGET}"))
    return report


def _disk(sizes: Sizes) -> int:
    contents = sizes.ocfl_files + sizes.ocfl_versions * sizes.ocfl_files * 12 // 1000
    inventories = sizes.ocfl_versions * sizes.ocfl_versions * sizes.ocfl_files * 180
    return 2 * (contents * (sizes.ocfl_file_bytes + 200) + inventories)


WORKLOAD = Workload("ocfl_object", "an OCFL object's registry: first build vs one new version", _run, _disk)
