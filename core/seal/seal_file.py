"""Reading and checking a local run folder's seal (MANIFEST.sha256 and manifest.json)."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from govern.errors import Problem
from govern.format.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    SEAL_LINE_PATTERN,
    SEAL_NAME,
    SealCheck,
    parse_manifest,
    seal_line,
)
from govern.runtime.gc_pause import paused as collector_paused
from govern.seal.seal_reads import MAX_SEAL_BYTES, SealFileRefused, read_seal_file

#: A manifest at least this large is hashed on a second thread while it is parsed.
_HASH_ASIDE_BYTES = 1 << 20


@contextlib.contextmanager
def _hashing_aside(data: bytes) -> Iterator[Callable[[], str]]:
    """ROOT_SHA256 of ``data``, computed on another thread for a large manifest: hashlib
    releases the GIL while it hashes, so the hash costs no time beside the parse."""
    if len(data) < _HASH_ASIDE_BYTES:
        root = seal_line(data)[0]
        yield lambda: root
        return
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.append(seal_line(data)[0]), name="govern-manifest-hash", daemon=True)
    worker.start()
    try:
        yield lambda: found[0] if found else seal_line(data)[0]
    finally:
        worker.join()


#: How a seal check reads one of the two seal files: ``(name, limit, not_regular_code) ->``
#: up to ``limit + 1`` bytes; raises FileNotFoundError when absent, :class:`SealFileRefused`
#: or OSError.
SealFileReader = Callable[[str, int, str], bytes]


def read_seal(run_dir: Path) -> SealCheck:
    """Check ``MANIFEST.sha256`` against ``manifest.json`` and the manifest's structure.

    Reads only the two seal files, never the payload: this is the check a delta build makes
    on every snapshot. :func:`govern.seal.verification.verify_run` adds the payload checks.
    """
    run_dir = Path(run_dir)
    return check_seal_files(run_dir.name, lambda name, limit, code: read_seal_file(run_dir / name, limit, code), run_dir)


def check_seal_files(run_id: str, read: SealFileReader, run_dir: Path | None = None) -> SealCheck:
    """The seal check of run ``run_id`` whose two seal files ``read`` returns — from a local
    folder (:func:`read_seal`) or a store (:meth:`govern.runs.run_store.RunStore.read_seal`):
    one parser, whatever holds the bytes."""
    where_manifest = f"{run_id}/{MANIFEST_NAME}"
    match, manifest_bytes, problems = _read_seal_files(run_id, read)
    if manifest_bytes is None:
        return SealCheck(run_dir, None, None, tuple(problems), run_id=run_id)
    with collector_paused(), _hashing_aside(manifest_bytes) as root_of:
        manifest, manifest_problems = parse_manifest(manifest_bytes, run_id, where_manifest)
    root = root_of()
    if match and match.group(1).decode("ascii") != root:
        problems.append(Problem("E_SEAL_MISMATCH", where_manifest, f"hashes to {root}, the seal says {match.group(1).decode('ascii')}"))
    problems.extend(manifest_problems)
    return SealCheck(run_dir, root, manifest, tuple(problems), run_id=run_id)


def seal_root(run_id: str, read: SealFileReader) -> str | None:
    """The ROOT_SHA256 that :func:`check_seal_files` reports for the same two files — the
    SHA-256 of manifest.json as read, None when either seal file is absent, refused or
    unreadable, or the manifest is too large — without parsing the manifest: all a check of
    recorded snapshots compares (``verify --log`` reads one per recorded run)."""
    _, manifest_bytes, _ = _read_seal_files(run_id, read)
    return None if manifest_bytes is None else seal_line(manifest_bytes)[0]


def read_seal_root(run_dir: Path) -> str | None:
    """:func:`seal_root` of a local run folder (the same reads as :func:`read_seal`)."""
    run_dir = Path(run_dir)
    return seal_root(run_dir.name, lambda name, limit, code: read_seal_file(run_dir / name, limit, code))


def _read_seal_files(run_id: str, read: SealFileReader) -> tuple[re.Match[bytes] | None, bytes | None, list[Problem]]:
    """The two seal files as a seal check reads them: the seal line's match (None: malformed
    or absent), manifest.json's bytes (None when a file is absent, refused, unreadable or the
    manifest too large: nothing to hash) and the problems found so far, in the check's order.
    The one reading rule of :func:`check_seal_files` and :func:`seal_root`."""
    where_seal = f"{run_id}/{SEAL_NAME}"
    where_manifest = f"{run_id}/{MANIFEST_NAME}"
    try:
        seal_bytes = read(SEAL_NAME, MAX_SEAL_BYTES, "E_SEAL_MALFORMED")
    except FileNotFoundError:
        return None, None, [Problem("E_SEAL_MISSING", where_seal, "no seal: the run is not sealed")]
    except SealFileRefused as refused:
        return None, None, [Problem(refused.code, where_seal, refused.reason)]
    except OSError as exc:
        return None, None, [Problem("E_FILE_UNREADABLE", where_seal, exc.strerror or str(exc))]
    match = SEAL_LINE_PATTERN.match(seal_bytes)
    problems: list[Problem] = []
    if not match:
        problems.append(Problem("E_SEAL_MALFORMED", where_seal, "expected exactly one line '<64 lowercase hex>  manifest.json'"))
    try:
        manifest_bytes = read(MANIFEST_NAME, MAX_MANIFEST_BYTES, "E_MANIFEST_INVALID")
    except FileNotFoundError:
        problems.append(Problem("E_MANIFEST_MISSING", where_manifest, "sealed run has no manifest.json"))
        return match, None, problems
    except SealFileRefused as refused:
        problems.append(Problem(refused.code, where_manifest, refused.reason))
        return match, None, problems
    except OSError as exc:
        problems.append(Problem("E_FILE_UNREADABLE", where_manifest, exc.strerror or str(exc)))
        return match, None, problems
    if len(manifest_bytes) > MAX_MANIFEST_BYTES:
        problems.append(Problem("E_MANIFEST_INVALID", where_manifest, f"larger than {MAX_MANIFEST_BYTES} bytes"))
        return match, None, problems
    return match, manifest_bytes, problems
