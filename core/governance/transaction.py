"""All-or-nothing replacement of several files: a roll-forward journal with backups.

POSIX renames one file atomically, never several. So a change to catalog, matrix and
scorecard is made in phases, every file fsynced before the next phase:

1. **stage** — inside a private folder next to the documents (``.govern-tmp-txn``), write
   each new content (through :func:`govern.store.atomic.write_atomic`) and hard-link each current
   file as its backup. Targets are checked first (a directory or a symlink in the way is
   refused). A failure here removes the folder: nothing changed.
2. **commit point** — write ``JOURNAL.json`` in that folder (atomically): which target gets
   which staged file, with both SHA-256s.
3. **apply** — ``os.replace`` each staged file onto its target, then fsync the directories.
4. **finish** — remove the folder.

If applying fails in-process (an I/O error on the third file, say) the journal is turned to
``rollback`` and every target is restored from its backup: all old. If the process dies
instead (power loss, SIGKILL), the next govern command that opens the books
(:func:`recover`, under the workspace lock) finds the journal and completes it: all new —
or, if it had been turned to rollback, restores: all old. Without a journal, the staged
files were never committed and are simply discarded. So between commands the documents are
always all-old or all-new; a reader other than govern can only see a mix while a crashed
transaction waits for the next govern command.

The renames go through :mod:`govern.runtime.faults`, so tests drive both paths through the real
console script: ``GOVERN_FAULT=apply:governance@N`` kills the process just before the N-th
replacement (``after-journal:governance`` right after the commit point), and
``GOVERN_FAULT_IO=replace:N:EIO`` makes the N-th rename of the process fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from govern.errors import GovernError
from govern.format.jsonio import StrictJSONError, dump_canonical, loads_strict
from govern.runtime import faults, interrupts
from govern.store.atomic import TEMP_PREFIX, fsync_directory, write_atomic

#: The transaction folder, inside the directory whose files it replaces.
TXN_DIR = f"{TEMP_PREFIX}txn"
JOURNAL = "JOURNAL.json"
JOURNAL_VERSION = "0.1"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    try:
        return _sha256(path.read_bytes())
    except FileNotFoundError:
        return None


def _check_target(root: Path, relpath: str) -> Path:
    target = root / relpath
    if target.is_symlink():
        raise GovernError("E_IO", f"{target}: is a symbolic link; govern never writes through one")
    if target.exists() and not target.is_file():
        raise GovernError("E_IO", f"{target}: is not a regular file; nothing was changed")
    return target


def _fsync_parents(root: Path, relpaths: list[str]) -> None:
    for directory in sorted({(root / relpath).parent for relpath in relpaths}):
        fsync_directory(directory)


def commit_files(root: Path, changes: Mapping[str, bytes]) -> list[str]:
    """Replace the files ``changes`` names (paths relative to ``root``) all or none.

    Call under the workspace lock, after :func:`recover`. Returns the paths written, sorted.
    Raises E_IO when the change could not be made; the files are then all as they were.
    """
    relpaths = sorted(changes)
    if not relpaths:
        return []
    txn = root / TXN_DIR
    if txn.exists():
        raise GovernError("E_IO", f"{txn}: an unfinished transaction is in the way (run any governance command to recover it)")
    targets = [_check_target(root, relpath) for relpath in relpaths]
    created_dirs = [d for d in sorted({t.parent for t in targets}) if not d.exists()]
    entries: list[dict[str, Any]] = []
    try:
        for directory in created_dirs:
            directory.mkdir(parents=True, exist_ok=True)
        txn.mkdir()
        for index, (relpath, target) in enumerate(zip(relpaths, targets), start=1):
            staged = f"new-{index}"
            write_atomic(txn / staged, changes[relpath])
            backup = None
            if target.exists():
                backup = f"old-{index}"
                _link_or_copy(target, txn / backup)
            entries.append(
                {
                    "path": relpath,
                    "staged": staged,
                    "backup": backup,
                    "sha256_new": _sha256(changes[relpath]),
                    "sha256_old": _file_sha256(target),
                }
            )
        fsync_directory(txn)
    except BaseException as exc:  # an interrupt included: the staging goes, nothing changed
        _discard(txn, created_dirs)
        if not isinstance(exc, OSError):
            raise
        raise GovernError("E_IO", f"{root}: staging the change failed: {exc.strerror or exc}; nothing was changed") from exc
    # From the journal to the end, an interrupt waits: the change is made whole, then reported.
    with interrupts.commit_point():
        return _commit(root, txn, entries, created_dirs, relpaths)


def _commit(root: Path, txn: Path, entries: list[dict[str, Any]], created_dirs: list[Path], relpaths: list[str]) -> list[str]:
    """Write the journal (the commit point), apply it, and remove the transaction folder."""
    try:
        _write_journal(txn, "forward", entries)
    except GovernError:
        _discard(txn, created_dirs)
        raise
    faults.crash_point("after-journal:governance")
    try:
        _apply(root, txn, entries)
    except (OSError, GovernError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        try:
            _write_journal(txn, "rollback", entries)
            _roll_back(root, txn, entries)
            _discard(txn, created_dirs)
        except (OSError, GovernError) as again:
            raise GovernError(
                "E_IO",
                f"{root}: writing failed ({reason}) and so did restoring ({again}); the next governance "
                "command completes the rollback from the journal",
            ) from exc
        raise GovernError("E_IO", f"{root}: writing the change failed ({reason}); every document was restored, nothing changed") from exc
    try:
        _discard(txn, [])
    except OSError as exc:  # an fsync failure is fatal, never retried: say so, never crash
        raise GovernError(
            "E_IO", f"{txn.parent}: fsync failed after the change was made ({exc.strerror or exc}); the documents are all new but may not be durable"
        ) from exc
    return relpaths


def _link_or_copy(source: Path, destination: Path) -> None:
    # A hard link is a free, exact backup; a filesystem without links gets a copy.
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)
        with open(destination, "rb+") as handle:
            os.fsync(handle.fileno())


def _write_journal(txn: Path, direction: str, entries: list[dict[str, Any]]) -> None:
    write_atomic(txn / JOURNAL, dump_canonical({"journal_version": JOURNAL_VERSION, "direction": direction, "entries": entries}))


def _apply(root: Path, txn: Path, entries: list[dict[str, Any]]) -> None:
    """Roll forward: put every staged file in place (an entry already applied is skipped)."""
    for entry in entries:
        target = root / entry["path"]
        staged = txn / entry["staged"]
        if staged.exists():
            faults.crash_point("apply:governance")
            faults.replace(staged, target)
        elif _file_sha256(target) != entry["sha256_new"]:
            raise GovernError("E_IO", f"{target}: neither the staged file nor the new content is there; cannot complete")
    _fsync_parents(root, [e["path"] for e in entries])


def _roll_back(root: Path, txn: Path, entries: list[dict[str, Any]]) -> None:
    """Restore every target from its backup (removing targets that did not exist before)."""
    for entry in entries:
        target = root / entry["path"]
        if entry["backup"] is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            continue
        backup = txn / entry["backup"]
        if _file_sha256(target) == entry["sha256_old"]:
            continue
        if not backup.exists():
            raise GovernError("E_IO", f"{target}: its backup is gone; cannot restore")
        faults.replace(backup, target)
    _fsync_parents(root, [e["path"] for e in entries])


def _discard(txn: Path, created_dirs: list[Path]) -> None:
    if txn.exists():
        shutil.rmtree(txn)
        fsync_directory(txn.parent)
    for directory in reversed(created_dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()  # only if still empty: a rolled-back change leaves no new folder


def recover(root: Path) -> str | None:
    """Finish or undo a transaction a crashed govern left in ``root``; say what was done.

    Call under the workspace lock. No journal: the change never reached its commit point, so
    the staged files are discarded (the documents were never touched). A ``forward``
    journal is completed; a ``rollback`` journal (or a forward one that cannot be completed)
    is undone from the backups.
    """
    txn = root / TXN_DIR
    if not txn.exists():
        return None
    journal_path = txn / JOURNAL
    if not journal_path.exists():
        _discard(txn, [])
        return f"discarded an uncommitted governance change left in {txn.name} (the documents were never touched)"
    try:
        journal = loads_strict(journal_path.read_bytes())
        direction = journal["direction"]
        entries = journal["entries"]
    except (OSError, StrictJSONError, KeyError, TypeError) as exc:
        raise GovernError("E_GOVERNANCE_INVALID", f"{journal_path}: unreadable transaction journal ({exc}); inspect it by hand") from None
    if direction == "forward":
        try:
            _apply(root, txn, entries)
        except (OSError, GovernError):
            _write_journal(txn, "rollback", entries)
            direction = "rollback"
    if direction == "rollback":
        _roll_back(root, txn, entries)
    _discard(txn, [])
    paths = ", ".join(entry["path"] for entry in entries)
    done = "completed" if direction == "forward" else "rolled back"
    return f"{done} a governance change interrupted by a crash ({paths})"
