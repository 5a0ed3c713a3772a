"""The manifest and the seal: their models, their bytes, and reading them back (docs/formats.md, "3. `manifest.json`" and "4. `MANIFEST.sha256` — the seal").

``manifest.json`` lists every file of a run but the two seal files, sorted by path, each with
its SHA-256 and size. ``MANIFEST.sha256`` holds one ``sha256sum``-compatible line pinning
``manifest.json``; that hex is the run's ROOT_SHA256. :func:`read_seal` checks the seal and
the manifest's structure without touching payload files — what a delta build needs.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import attrs

from govern.errors import Problem
from govern.format.jsonio import StrictJSONError, dump_canonical, is_canonical, lenient_value, parse_strict

# The seal format's names, constants and bulk checks live in manifest_columns (no attrs, for
# verify's quick check); they are re-exported here, where the rest of govern imports them.
from govern.format.manifest_columns import ALGORITHM as ALGORITHM
from govern.format.manifest_columns import ENTRY_KEYS as _ENTRY_KEYS
from govern.format.manifest_columns import HEX64 as _HEX64
from govern.format.manifest_columns import MANIFEST_KEYS as _MANIFEST_KEYS
from govern.format.manifest_columns import MANIFEST_NAME as MANIFEST_NAME
from govern.format.manifest_columns import MANIFEST_VERSION as MANIFEST_VERSION
from govern.format.manifest_columns import MAX_MANIFEST_BYTES as MAX_MANIFEST_BYTES
from govern.format.manifest_columns import SEAL_LINE_PATTERN as SEAL_LINE_PATTERN
from govern.format.manifest_columns import SEAL_NAME as SEAL_NAME
from govern.format.manifest_columns import Columns as _Columns
from govern.format.manifest_columns import as_govern_writes_it as _as_govern_writes_it
from govern.format.manifest_columns import columns_if_plainly_valid as _columns_if_plainly_valid
from govern.format.paths import (
    file_directory_conflicts,
    manifest_path_problem,
    sorted_file_directory_conflicts,
)
from govern.runtime.gc_pause import paused as collector_paused


class ManifestEntry(NamedTuple):
    """One sealed file: its run-relative path, SHA-256 (lowercase hex) and size in bytes.

    A named tuple rather than an attrs class: a manifest can hold a million of these, and a
    tuple is built several times faster (immutable and comparable all the same).
    """

    path: str
    sha256: str
    bytes: int


class Manifest:
    """The list of a run's files, sorted by path.

    Held either as entries (``files``, as sealing builds it) or as three columns (``paths``,
    ``digests``, ``sizes``, as reading a large manifest yields them); each form is derived from
    the other on first use and kept. A delta build of a million-entry snapshot works on the
    columns and never builds the million :class:`ManifestEntry` tuples. Immutable.
    """

    __slots__ = ("run_id", "_files", "_columns", "_joined")
    run_id: str
    _files: tuple[ManifestEntry, ...] | None
    _columns: _Columns | None
    _joined: tuple[bytes, bytes] | None

    def __init__(
        self,
        run_id: str,
        files: Sequence[ManifestEntry] | None = None,
        *,
        columns: _Columns | None = None,
        joined: tuple[bytes, bytes] | None = None,
    ) -> None:
        if (files is None) == (columns is None):
            raise TypeError("a Manifest is built from files or from columns, not both")
        object.__setattr__(self, "run_id", run_id)
        object.__setattr__(self, "_files", None if files is None else tuple(files))
        object.__setattr__(self, "_columns", columns)
        # The paths and the digests each joined by "\n" (ASCII bytes), when reading made them
        # anyway: how the manifest is pickled (see __reduce__) or handed over by a worker.
        object.__setattr__(self, "_joined", joined)

    @classmethod
    def from_columns(cls, run_id: str, paths: Sequence[str], digests: Sequence[str], sizes: Sequence[int]) -> Manifest:
        """A manifest of the entries ``zip(paths, digests, sizes)``, kept as columns."""
        if not len(paths) == len(digests) == len(sizes):
            raise ValueError("manifest columns differ in length")
        return cls(run_id, columns=_Columns(tuple(paths), tuple(digests), tuple(sizes)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Manifest is immutable (cannot set {name!r})")

    @property
    def files(self) -> tuple[ManifestEntry, ...]:
        """Every entry, in path order."""
        if self._files is not None:
            return self._files
        assert self._columns is not None  # built from one form or the other
        paths, digests, sizes = self._columns
        # tuple.__new__ straight from C, the collector paused: a million entries in a third
        # of a second instead of two (each new tuple would otherwise trigger collections).
        with collector_paused():
            entries: tuple[ManifestEntry, ...] = tuple(
                map(tuple.__new__, itertools.repeat(ManifestEntry), zip(paths, digests, sizes))
            )
        object.__setattr__(self, "_files", entries)
        return entries

    def _column_view(self) -> _Columns:
        if self._columns is not None:
            return self._columns
        files = self._files or ()
        columns = _Columns(*map(tuple, zip(*files))) if files else _Columns((), (), ())
        object.__setattr__(self, "_columns", columns)
        return columns

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path, sorted."""
        return self._column_view().paths

    @property
    def digests(self) -> tuple[str, ...]:
        """Every SHA-256, in the order of :attr:`paths`."""
        return self._column_view().digests

    @property
    def sizes(self) -> tuple[int, ...]:
        """Every size in bytes, in the order of :attr:`paths`."""
        return self._column_view().sizes

    def __len__(self) -> int:
        return len(self._files) if self._files is not None else len(self._column_view().paths)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Manifest):
            return NotImplemented
        return self.run_id == other.run_id and self._column_view() == other._column_view()

    def __hash__(self) -> int:
        return hash((self.run_id, self._column_view()))

    def __repr__(self) -> str:
        return f"Manifest(run_id={self.run_id!r}, {len(self)} files)"

    def joined_columns(self) -> tuple[bytes, bytes] | None:
        """The paths and the digests each joined by ``\\n``, as ASCII bytes, when reading the
        manifest made them anyway (the by-products of its bulk checks); else None."""
        return self._joined

    def __reduce__(self) -> tuple:
        # Paths and digests as two long strings pickle many times faster than two million short ones.
        paths, digests, sizes = self._column_view()
        if self._joined is not None and len(paths) > 1:
            return (unpack_manifest, (self.run_id, *self._joined, sizes))
        return (Manifest.from_columns, (self.run_id, paths, digests, sizes))

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
    :func:`govern.format.jsonio.dump_canonical`), each run indented one level deeper and spliced
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


def unpack_manifest(run_id: str, joined_paths: bytes, joined_digests: bytes, sizes: tuple[int, ...]) -> Manifest:
    """The manifest of more than one entry whose paths and digests are given each joined by
    ``\\n`` as ASCII bytes (:meth:`Manifest.joined_columns`)."""
    paths, digests = (str(joined, "ascii").split("\n") for joined in (joined_paths, joined_digests))
    return Manifest(run_id, columns=_Columns(tuple(paths), tuple(digests), sizes), joined=(joined_paths, joined_digests))


def seal_line(manifest_bytes: bytes) -> tuple[str, bytes]:
    """ROOT_SHA256 of ``manifest_bytes`` and the MANIFEST.sha256 line that pins it."""
    root = hashlib.sha256(manifest_bytes).hexdigest()
    return root, f"{root}  {MANIFEST_NAME}\n".encode("ascii")


@attrs.frozen
class SealCheck:
    """What reading a run's seal found: the root hash, the parsed manifest, the problems.

    ``run_id`` names the run; ``run_dir`` is its local folder when it was read from one (the
    seal layer's callers), None when it was read through a store (:mod:`govern.runs.run_store`).
    """

    run_dir: Path | None
    root_sha256: str | None
    manifest: Manifest | None
    problems: tuple[Problem, ...]
    run_id: str = attrs.field()

    @run_id.default
    def _run_id_of_folder(self) -> str:
        if self.run_dir is None:
            raise TypeError("SealCheck needs a run_id when it has no run_dir")
        return self.run_dir.name

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def sealed(self) -> bool:
        """True when the run carries a seal file at all (it may still be broken)."""
        return not any(p.code == "E_SEAL_MISSING" for p in self.problems)


def _parse_entries(
    raw_files: object, run_id: str, where: str, problems: list[Problem], plain: tuple[_Columns, tuple[bytes, bytes]] | None
) -> Manifest:
    """The manifest of ``raw_files``, given ``plain``: what :func:`_columns_if_plainly_valid`
    made of them (None: they are not all plainly valid, or not a list)."""
    if not isinstance(raw_files, list):
        problems.append(Problem("E_MANIFEST_INVALID", where, "'files' is not a list"))
        return Manifest(run_id, ())
    if plain is not None:
        columns, joined = plain
        _report_file_directory_conflicts(sorted_file_directory_conflicts(columns.paths), where, problems)
        return Manifest(run_id, columns=columns, joined=joined)
    return _explain_entries(raw_files, run_id, where, problems)


def _explain_entries(raw_files: list, run_id: str, where: str, problems: list[Problem]) -> Manifest:
    """Check entry by entry, reporting every problem; the valid entries make the manifest."""
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
    _report_file_directory_conflicts(file_directory_conflicts(seen), where, problems)
    return Manifest(run_id, entries)


def _report_file_directory_conflicts(conflicts: list[str], where: str, problems: list[Problem]) -> None:
    for path in conflicts:
        problems.append(Problem("E_PATH_CONFLICT", f"{where}: {path}", "listed as a file and used as a directory"))


def parse_manifest(data: bytes, run_id: str, where: str) -> tuple[Manifest | None, list[Problem]]:
    """Parse and check manifest.json bytes; problems are collected, not raised.

    A manifest as govern writes it takes the fast path: orjson reads it, and its entries are
    checked in bulk (:func:`_columns_if_plainly_valid`). Anything else is read by the strict
    parser and checked entry by entry, which explains every problem.
    """
    problems: list[Problem] = []
    doc = lenient_value(data)
    plain = None
    if isinstance(doc, dict) and isinstance(doc.get("files"), list):
        plain = _columns_if_plainly_valid(doc["files"])
        if plain is not None and _as_govern_writes_it(doc, data, run_id, len(doc["files"])):
            columns, joined = plain
            _report_file_directory_conflicts(sorted_file_directory_conflicts(columns.paths), where, problems)
            return Manifest(run_id, columns=columns, joined=joined), problems
    if doc is None or not is_canonical(doc, data):
        # Not as govern writes it: the strict parser decides, and the entries are checked anew.
        try:
            doc = parse_strict(data)
        except StrictJSONError as exc:
            pos = exc.where()
            return None, [Problem("E_MANIFEST_INVALID", where, f"{pos + ': ' if pos else ''}{exc.reason}")]
        plain = None if not isinstance(doc, dict) or not isinstance(doc.get("files"), list) else _columns_if_plainly_valid(doc["files"])
    if not isinstance(doc, dict):
        return None, [Problem("E_MANIFEST_INVALID", where, "not a JSON object")]
    if set(doc) != _MANIFEST_KEYS:
        extra = sorted(set(doc) - _MANIFEST_KEYS)
        missing = sorted(_MANIFEST_KEYS - set(doc))
        detail = "; ".join(filter(None, [f"unknown keys {extra}" if extra else "", f"missing keys {missing}" if missing else ""]))
        return None, [Problem("E_MANIFEST_INVALID", where, detail)]
    if doc["manifest_version"] != MANIFEST_VERSION:
        problems.append(Problem("E_MANIFEST_INVALID", where, f"manifest_version {doc['manifest_version']!r} is not {MANIFEST_VERSION!r}"))
    if doc["algorithm"] != ALGORITHM:
        problems.append(Problem("E_ALGORITHM_UNKNOWN", where, f"algorithm {doc['algorithm']!r} is not 'sha256'"))
    if doc["run_id"] != run_id:
        problems.append(Problem("E_RUN_ID_MISMATCH", where, f"run_id {doc['run_id']!r} but the folder is {run_id!r}"))
    return _parse_entries(doc["files"], run_id, where, problems, plain), problems


#: A seal line is 80 bytes; anything much longer is not a seal (and is not read whole).
