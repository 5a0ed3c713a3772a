"""Generating workloads on disk: payload files, and sealed runs written directly.

A sealed run written here is byte-for-byte what ``govern seal`` would write for the same
entries (docs/formats.md: canonical JSON — sorted keys, 2-space indent, trailing newline —
and a ``sha256sum`` line pinning it), so govern reads it as sealed. Writing the manifest
directly is what makes a million-entry snapshot cheap to generate: a delta build reads
manifests and seals, never payloads (``govern verify`` of such a run would fail, as its
payload does not exist; only builds are measured on them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

#: (path, sha256 hex, bytes) — one manifest entry.
Entry = tuple[str, str, int]

_CHUNK = 8 << 20


def run_id(day: int, seconds: int, slug: str) -> str:
    """A run id ``YYYY-MM-DD__HHMMSS__slug`` on day ``day`` (0 = 2020-01-01) at ``seconds``."""
    import datetime as dt

    moment = dt.datetime(2020, 1, 1) + dt.timedelta(days=day, seconds=seconds)
    return f"{moment:%Y-%m-%d__%H%M%S}__{slug}"


def write_random_file(path: Path, size: int) -> None:
    """``size`` bytes of random data (hashing speed does not depend on content; disk does not
    compress it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        left = size
        while left:
            block = os.urandom(min(_CHUNK, left))
            handle.write(block)
            left -= len(block)


def small_tree_paths(files: int, folders: int) -> list[str]:
    """Relative paths of ``files`` files spread evenly over ``folders`` folders."""
    per_folder = max(1, -(-files // max(1, folders)))
    return [f"d{i // per_folder:04d}/f{i % per_folder:05d}.bin" for i in range(files)]


def write_small_tree(root: Path, files: int, folders: int, file_bytes: int) -> None:
    """``files`` files of ``file_bytes`` random bytes in ``folders`` folders under ``root``."""
    made: set[str] = set()
    for relative in small_tree_paths(files, folders):
        folder = relative.rpartition("/")[0]
        if folder not in made:
            (root / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        with open(root / relative, "wb") as handle:
            handle.write(os.urandom(file_bytes))


def manifest_bytes(run_id: str, entries: Iterable[Entry]) -> bytes:
    """Canonical manifest.json bytes for ``entries`` (which must be sorted by path).

    Formatted by hand rather than with ``json.dumps(indent=2)`` (whose pure-Python indenting
    encoder takes many seconds for a million entries); the smoke test proves the two agree.
    """
    parts = ['{\n  "algorithm": "sha256",\n  "files": [']
    body = [
        f'\n    {{\n      "bytes": {size},\n      "path": {json.dumps(path, ensure_ascii=False)},\n      "sha256": "{digest}"\n    }}'
        for path, digest, size in entries
    ]
    parts.append(",".join(body))
    parts.append("\n  ]" if body else "]")
    parts.append(f',\n  "manifest_version": "0.1",\n  "run_id": {json.dumps(run_id, ensure_ascii=False)}\n}}\n')
    return "".join(parts).encode("utf-8")


def write_seal(run_dir: Path, entries: Iterable[Entry]) -> str:
    """Write manifest.json and MANIFEST.sha256 for ``entries`` into ``run_dir``; the ROOT_SHA256."""
    run_dir.mkdir(parents=True, exist_ok=True)
    data = manifest_bytes(run_dir.name, entries)
    (run_dir / "manifest.json").write_bytes(data)
    root = hashlib.sha256(data).hexdigest()
    (run_dir / "MANIFEST.sha256").write_bytes(f"{root}  manifest.json\n".encode("ascii"))
    return root


def write_sealed_run(run_dir: Path, files: dict[str, bytes]) -> str:
    """A real sealed run: the payload ``files`` (path → content) written and sealed."""
    entries = []
    for relative, content in sorted(files.items()):
        target = run_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        entries.append((relative, hashlib.sha256(content).hexdigest(), len(content)))
    return write_seal(run_dir, entries)


def remove_seal(run_dir: Path) -> None:
    """Remove what ``govern seal`` writes (run.json, manifest.json, MANIFEST.sha256) so the run
    can be sealed again from scratch."""
    for name in ("run.json", "manifest.json", "MANIFEST.sha256"):
        try:
            os.unlink(run_dir / name)
        except FileNotFoundError:
            pass


def write_workspace(ctx, directory: Path, registries_toml: str) -> Path:
    """``govern init`` a workspace in ``directory`` and append ``registries_toml`` to its config;
    returns its runs root."""
    ctx.setup(ctx.govern("init", directory))
    with open(directory / "registry_config.toml", "a", encoding="utf-8") as config:
        config.write("\n" + registries_toml)
    return directory / ".codex" / "RUNS"


def build_undoer(runs_root: Path, build_run: str) -> Callable[[], None]:
    """A function putting ``runs_root`` back as it is now, once a timed ``govern delta build``
    has written ``build_run``: the build's run and the head object that committed it are
    removed (docs/object-storage.md, "The commit protocol"); without the head, the log is the
    one before the build. Removing the run alone leaves a head naming a run that is gone, and
    the next build refuses the history (E_LOG_TAMPERED)."""
    from govern.format.heads import LOG_FOLDER

    heads = runs_root / LOG_FOLDER
    heads_before = frozenset(os.listdir(heads)) if heads.is_dir() else frozenset()

    def undo() -> None:
        shutil.rmtree(runs_root / build_run, ignore_errors=True)
        if heads.is_dir():
            for name in set(os.listdir(heads)) - heads_before:
                os.unlink(heads / name)

    return undo
