"""The manifest and the seal: their models, their bytes, and reading them back (DESIGN §4).

``manifest.json`` lists every file of a run but the two seal files, sorted by path, each with
its SHA-256 and size. ``MANIFEST.sha256`` holds one ``sha256sum``-compatible line pinning
``manifest.json``; that hex is the run's ROOT_SHA256. :func:`read_seal` checks the seal and
the manifest's structure without touching payload files — what a delta build needs.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import itertools
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import attrs

from govern.errors import Problem
from govern.jsonio import StrictJSONError, dump_canonical, loads_strict
from govern.paths import all_plain_paths, manifest_path_problem

MANIFEST_NAME = "manifest.json"
SEAL_NAME = "MANIFEST.sha256"
MANIFEST_VERSION = "0.1"
ALGORITHM = "sha256"
#: Largest manifest.json read (a million entries is ~150 MB).
MAX_MANIFEST_BYTES = 2 << 30

# \Z, not $: "$" also matches before a final newline, which would let "<hex>\n" through.
_ENTRY_KEYS = frozenset({"path", "sha256", "bytes"})
_HEX_RUN = re.compile(r"[0-9a-f]*")
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_SEAL_LINE = re.compile(rb"^([0-9a-f]{64})  manifest\.json\n\Z")


class ManifestEntry(NamedTuple):
    """One sealed file: its run-relative path, SHA-256 (lowercase hex) and size in bytes.

    A named tuple rather than an attrs class: a manifest can hold a million of these, and a
    tuple is built several times faster (immutable and comparable all the same).
    """

    path: str
    sha256: str
    bytes: int


@attrs.frozen
class Manifest:
    """The list of a run's files, sorted by path."""

    run_id: str
    files: tuple[ManifestEntry, ...]

    def to_json(self) -> dict:
        """The manifest as a JSON-ready dict (canonical key set)."""
        return {
            "manifest_version": MANIFEST_VERSION,
            "run_id": self.run_id,
            "algorithm": ALGORITHM,
            "files": [{"path": e.path, "sha256": e.sha256, "bytes": e.bytes} for e in self.files],
        }

    def to_bytes(self) -> bytes:
        """Canonical manifest.json bytes."""
        return manifest_bytes(self.run_id, self.files)

    def by_path(self) -> dict[str, ManifestEntry]:
        """Entries keyed by path."""
        return {entry.path: entry for entry in self.files}


#: Entries serialised per call by :func:`manifest_bytes` (bounds the memory it takes).
_ENTRIES_PER_CALL = 8192


def manifest_bytes(run_id: str, entries: Iterable[tuple[str, str, int]]) -> bytes:
    """Canonical manifest.json bytes for ``entries`` — ``(path, sha256, bytes)`` sorted by
    path — equal to ``dump_canonical(Manifest(...).to_json())`` (a test proves it).

    The entries are serialised a few thousand at a time (by orjson, see
    :func:`govern.jsonio.dump_canonical`), each run indented one level deeper and spliced
    into the document: a million entries never exist as a million dicts at once.
    """
    head, tail = dump_canonical(Manifest(run_id, ()).to_json(), floats=False).split(b'"files": []', 1)
    parts = [head, b'"files": [']
    entries = iter(entries)
    while batch := [{"path": p, "sha256": d, "bytes": b} for p, d, b in itertools.islice(entries, _ENTRIES_PER_CALL)]:
        # b"[\n  {...},\n  {...}\n]\n": drop the brackets, indent every line two more spaces
        # (no string holds a raw newline: JSON escapes it).
        parts.append(b",\n    " if len(parts) > 2 else b"\n    ")
        parts.append(dump_canonical(batch, floats=False)[4:-3].replace(b"\n", b"\n  "))
    parts.append(b"\n  ]" if len(parts) > 2 else b"]")
    parts.append(tail)
    return b"".join(parts)  # one copy: the document is the largest thing a seal holds


def seal_line(manifest_bytes: bytes) -> tuple[str, bytes]:
    """ROOT_SHA256 of ``manifest_bytes`` and the MANIFEST.sha256 line that pins it."""
    root = hashlib.sha256(manifest_bytes).hexdigest()
    return root, f"{root}  {MANIFEST_NAME}\n".encode("ascii")


@attrs.frozen
class SealCheck:
    """What reading a run's seal found: the root hash, the parsed manifest, the problems."""

    run_dir: Path
    root_sha256: str | None
    manifest: Manifest | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def sealed(self) -> bool:
        """True when the run carries a seal file at all (it may still be broken)."""
        return not any(p.code == "E_SEAL_MISSING" for p in self.problems)


def _entries_if_plainly_valid(raw_files: list) -> tuple[ManifestEntry, ...] | None:
    """All entries at C speed when every one is plainly valid, else None (explain slowly).

    Plainly valid: exactly the three keys; plain paths (:func:`govern.paths.all_plain_paths`)
    in strictly ascending order (so also unique); 64 lowercase hex digests; non-negative sizes.
    """
    try:
        if not all(type(raw) is dict and len(raw) == 3 for raw in raw_files):
            return None
        paths = [raw["path"] for raw in raw_files]
        digests = [raw["sha256"] for raw in raw_files]
        sizes = [raw["bytes"] for raw in raw_files]
        joined_digests = "".join(digests)
    except (KeyError, TypeError):
        return None
    if len(joined_digests) != 64 * len(digests) or not _HEX_RUN.fullmatch(joined_digests):
        return None
    if not all(type(size) is int and size >= 0 for size in sizes):
        return None
    if not all_plain_paths(paths) or not all(a < b for a, b in zip(paths, paths[1:])):
        return None
    return tuple(map(ManifestEntry, paths, digests, sizes))


def _parse_entries(raw_files: object, where: str, problems: list[Problem]) -> tuple[ManifestEntry, ...]:
    if not isinstance(raw_files, list):
        problems.append(Problem("E_MANIFEST_INVALID", where, "'files' is not a list"))
        return ()
    plain = _entries_if_plainly_valid(raw_files)
    if plain is not None:
        _report_file_directory_conflicts({entry.path for entry in plain}, where, problems)
        return plain
    entries: list[ManifestEntry] = []
    seen: set[str] = set()
    previous: str | None = None
    for index, raw in enumerate(raw_files):
        at = f"{where}: files[{index}]"
        if not isinstance(raw, dict) or raw.keys() != _ENTRY_KEYS:
            problems.append(Problem("E_MANIFEST_INVALID", at, "entry must be an object with exactly path, sha256, bytes"))
            continue
        path, digest, size = raw["path"], raw["sha256"], raw["bytes"]
        reason = manifest_path_problem(path)
        if reason:
            problems.append(Problem("E_UNSAFE_PATH", f"{where}: {path!r}", reason))
            continue
        bad = False
        if not isinstance(digest, str) or not _HEX64.match(digest):
            problems.append(Problem("E_DIGEST_MALFORMED", f"{where}: {path}", f"digest {digest!r} is not 64 lowercase hex characters"))
            bad = True
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(Problem("E_SIZE_MALFORMED", f"{where}: {path}", f"size {size!r} is not a non-negative integer"))
            bad = True
        if path in seen:
            problems.append(Problem("E_PATH_DUPLICATE", f"{where}: {path}", "listed more than once"))
            bad = True
        elif previous is not None and path < previous:
            problems.append(Problem("E_MANIFEST_UNSORTED", f"{where}: {path}", f"listed after {previous!r}"))
        seen.add(path)
        previous = path
        if not bad:
            entries.append(ManifestEntry(path, digest, size))
    _report_file_directory_conflicts(seen, where, problems)
    return tuple(entries)


def _report_file_directory_conflicts(paths: set[str], where: str, problems: list[Problem]) -> None:
    # Every folder any path lies in; parents are shared by many files, so each distinct
    # folder's ancestors are walked once.
    directories: set[str] = set()
    for parent in {path.rpartition("/")[0] for path in paths}:
        while parent and parent not in directories:
            directories.add(parent)
            parent = parent.rpartition("/")[0]
    for path in sorted(paths & directories):
        problems.append(Problem("E_PATH_CONFLICT", f"{where}: {path}", "listed as a file and used as a directory"))


def parse_manifest(data: bytes, run_id: str, where: str) -> tuple[Manifest | None, list[Problem]]:
    """Parse and check manifest.json bytes; problems are collected, not raised."""
    problems: list[Problem] = []
    try:
        doc = loads_strict(data)
    except StrictJSONError as exc:
        pos = exc.where()
        return None, [Problem("E_MANIFEST_INVALID", where, f"{pos + ': ' if pos else ''}{exc.reason}")]
    if not isinstance(doc, dict):
        return None, [Problem("E_MANIFEST_INVALID", where, "not a JSON object")]
    expected = {"manifest_version", "run_id", "algorithm", "files"}
    if set(doc) != expected:
        extra = sorted(set(doc) - expected)
        missing = sorted(expected - set(doc))
        detail = "; ".join(filter(None, [f"unknown keys {extra}" if extra else "", f"missing keys {missing}" if missing else ""]))
        return None, [Problem("E_MANIFEST_INVALID", where, detail)]
    if doc["manifest_version"] != MANIFEST_VERSION:
        problems.append(Problem("E_MANIFEST_INVALID", where, f"manifest_version {doc['manifest_version']!r} is not {MANIFEST_VERSION!r}"))
    if doc["algorithm"] != ALGORITHM:
        problems.append(Problem("E_ALGORITHM_UNKNOWN", where, f"algorithm {doc['algorithm']!r} is not 'sha256'"))
    if doc["run_id"] != run_id:
        problems.append(Problem("E_RUN_ID_MISMATCH", where, f"run_id {doc['run_id']!r} but the folder is {run_id!r}"))
    entries = _parse_entries(doc["files"], where, problems)
    return Manifest(run_id=run_id, files=entries), problems


#: A seal line is 81 bytes; anything much longer is not a seal (and is not read whole).
_MAX_SEAL_BYTES = 4096


class _SealFileRefused(Exception):
    """A seal file that is a symlink or not a regular file: ``code`` and ``reason``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _read_seal_file(path: Path, limit: int, not_regular_code: str) -> bytes:
    """Up to ``limit + 1`` bytes of a seal file, never through a symlink (which could point
    outside the run) and never blocking on a FIFO. Raises OSError (FileNotFoundError when
    absent) or :class:`_SealFileRefused`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _SealFileRefused("E_SYMLINK", "is a symbolic link (never followed)") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _SealFileRefused(not_regular_code, "is not a regular file")
        return handle.read(limit + 1)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a manifest is parsed.

    A million-entry manifest allocates millions of acyclic objects (strings, dicts, tuples),
    each allocation burst triggering collections that find nothing: a quarter of the parse.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_seal(run_dir: Path) -> SealCheck:
    """Check ``MANIFEST.sha256`` against ``manifest.json`` and the manifest's structure.

    Reads only the two seal files, never the payload: this is the check a delta build makes
    on every snapshot. :func:`govern.verification.verify_run` adds the payload checks.
    """
    run_dir = Path(run_dir)
    seal_path = run_dir / SEAL_NAME
    manifest_path = run_dir / MANIFEST_NAME
    where_seal = f"{run_dir.name}/{SEAL_NAME}"
    where_manifest = f"{run_dir.name}/{MANIFEST_NAME}"
    try:
        seal_bytes = _read_seal_file(seal_path, _MAX_SEAL_BYTES, "E_SEAL_MALFORMED")
    except FileNotFoundError:
        return SealCheck(run_dir, None, None, (Problem("E_SEAL_MISSING", where_seal, "no seal: the run is not sealed"),))
    except _SealFileRefused as refused:
        return SealCheck(run_dir, None, None, (Problem(refused.code, where_seal, refused.reason),))
    except OSError as exc:
        return SealCheck(run_dir, None, None, (Problem("E_FILE_UNREADABLE", where_seal, exc.strerror or str(exc)),))
    match = _SEAL_LINE.match(seal_bytes)
    problems: list[Problem] = []
    if not match:
        problems.append(Problem("E_SEAL_MALFORMED", where_seal, "expected exactly one line '<64 lowercase hex>  manifest.json'"))
    try:
        manifest_bytes = _read_seal_file(manifest_path, MAX_MANIFEST_BYTES, "E_MANIFEST_INVALID")
    except FileNotFoundError:
        problems.append(Problem("E_MANIFEST_MISSING", where_manifest, "sealed run has no manifest.json"))
        return SealCheck(run_dir, None, None, tuple(problems))
    except _SealFileRefused as refused:
        problems.append(Problem(refused.code, where_manifest, refused.reason))
        return SealCheck(run_dir, None, None, tuple(problems))
    except OSError as exc:
        problems.append(Problem("E_FILE_UNREADABLE", where_manifest, exc.strerror or str(exc)))
        return SealCheck(run_dir, None, None, tuple(problems))
    if len(manifest_bytes) > MAX_MANIFEST_BYTES:
        problems.append(Problem("E_MANIFEST_INVALID", where_manifest, f"larger than {MAX_MANIFEST_BYTES} bytes"))
        return SealCheck(run_dir, None, None, tuple(problems))
    root, _ = seal_line(manifest_bytes)
    if match and match.group(1).decode("ascii") != root:
        problems.append(Problem("E_SEAL_MISMATCH", where_manifest, f"hashes to {root}, the seal says {match.group(1).decode('ascii')}"))
    with _collector_paused():
        manifest, manifest_problems = parse_manifest(manifest_bytes, run_dir.name, where_manifest)
    problems.extend(manifest_problems)
    return SealCheck(run_dir, root, manifest, tuple(problems))
