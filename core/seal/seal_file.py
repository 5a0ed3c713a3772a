"""Reading and checking a local run folder's seal (MANIFEST.sha256 and manifest.json)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from govern.errors import Problem
from govern.format.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    SEAL_LINE_PATTERN,
    SEAL_NAME,
    Manifest,
    SealCheck,
    parse_manifest,
    seal_line,
)
from govern.runtime.gc_pause import paused as collector_paused

_MAX_SEAL_BYTES = 4096


class SealFileRefused(Exception):
    """A seal file that is a symlink or not a regular file: ``code`` and ``reason``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _read_seal_file(path: Path, limit: int, not_regular_code: str) -> bytes:
    """Up to ``limit + 1`` bytes of a seal file, never through a symlink (which could point
    outside the run) and never blocking on a FIFO. Raises OSError (FileNotFoundError when
    absent) or :class:`SealFileRefused`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SealFileRefused("E_SYMLINK", "is a symbolic link (never followed)") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SealFileRefused(not_regular_code, "is not a regular file")
        return handle.read(limit + 1)


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
    return check_seal_files(run_dir.name, lambda name, limit, code: _read_seal_file(run_dir / name, limit, code), run_dir)


def check_seal_files(run_id: str, read: SealFileReader, run_dir: Path | None = None) -> SealCheck:
    """The seal check of run ``run_id`` whose two seal files ``read`` returns — from a local
    folder (:func:`read_seal`) or a store (:meth:`govern.runs.run_store.RunStore.read_seal`):
    one parser, whatever holds the bytes."""
    where_seal = f"{run_id}/{SEAL_NAME}"
    where_manifest = f"{run_id}/{MANIFEST_NAME}"

    def check(root: str | None, manifest: Manifest | None, problems: Iterable[Problem]) -> SealCheck:
        return SealCheck(run_dir, root, manifest, tuple(problems), run_id=run_id)

    try:
        seal_bytes = read(SEAL_NAME, _MAX_SEAL_BYTES, "E_SEAL_MALFORMED")
    except FileNotFoundError:
        return check(None, None, [Problem("E_SEAL_MISSING", where_seal, "no seal: the run is not sealed")])
    except SealFileRefused as refused:
        return check(None, None, [Problem(refused.code, where_seal, refused.reason)])
    except OSError as exc:
        return check(None, None, [Problem("E_FILE_UNREADABLE", where_seal, exc.strerror or str(exc))])
    match = SEAL_LINE_PATTERN.match(seal_bytes)
    problems: list[Problem] = []
    if not match:
        problems.append(Problem("E_SEAL_MALFORMED", where_seal, "expected exactly one line '<64 lowercase hex>  manifest.json'"))
    try:
        manifest_bytes = read(MANIFEST_NAME, MAX_MANIFEST_BYTES, "E_MANIFEST_INVALID")
    except FileNotFoundError:
        problems.append(Problem("E_MANIFEST_MISSING", where_manifest, "sealed run has no manifest.json"))
        return check(None, None, problems)
    except SealFileRefused as refused:
        problems.append(Problem(refused.code, where_manifest, refused.reason))
        return check(None, None, problems)
    except OSError as exc:
        problems.append(Problem("E_FILE_UNREADABLE", where_manifest, exc.strerror or str(exc)))
        return check(None, None, problems)
    if len(manifest_bytes) > MAX_MANIFEST_BYTES:
        problems.append(Problem("E_MANIFEST_INVALID", where_manifest, f"larger than {MAX_MANIFEST_BYTES} bytes"))
        return check(None, None, problems)
    with collector_paused(), _hashing_aside(manifest_bytes) as root_of:
        manifest, manifest_problems = parse_manifest(manifest_bytes, run_id, where_manifest)
    root = root_of()
    if match and match.group(1).decode("ascii") != root:
        problems.append(Problem("E_SEAL_MISMATCH", where_manifest, f"hashes to {root}, the seal says {match.group(1).decode('ascii')}"))
    problems.extend(manifest_problems)
    return check(root, manifest, problems)
