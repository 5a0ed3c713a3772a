"""``govern repair --log``: an explicit, backed-up truncation of a torn tail — and nothing else.

A torn tail is a last line without its newline: what an append cut short by a crash or a full
disk leaves. govern never appends to a sealed log (a build writes a whole new log in a staging
folder and renames it into place), so a torn tail in the latest build's log was added *after*
the build was sealed — and the seal says exactly what the log was. That makes the repair
provable, in the spirit of etcd's WAL repair (cut the torn record, nothing more):

* The tail after the last newline is cut only when the bytes left are exactly the ones the
  build's manifest attests (size and SHA-256). The build then verifies again, unchanged: no
  re-seal, no rewritten history, the same ROOT_SHA256 as before.
* The torn file is backed up, with a ``REPAIR.json`` saying what was cut, outside the runs
  root (default ``<workspace>/.govern/repairs/<run_id>__<sha256 of the torn file, 12>/``),
  before the log is touched. The cut itself is one ``ftruncate`` + ``fsync``: a crash leaves
  the torn log or the repaired one, and running the repair again finishes the job.
* Everything else is refused (``E_REPAIR_REFUSED``, exit 1, nothing written): a log that
  differs from its seal by more than a torn tail (complete lines appended, bytes changed or
  lost), other damage in the build, and a torn tail that the seal itself covers — no crash
  produces that (govern seals a log only once it is complete), so the build was sealed torn,
  and govern does not rewrite a sealed run. ``govern verify --log`` explains such cases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import attrs

from govern.__about__ import __version__
from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.format.jsonio import dump_canonical
from govern.format.manifest import ManifestEntry
from govern.host.manager import PluginHost
from govern.log.delta_log import list_builds, torn_tail_offset
from govern.runtime import faults, interrupts
from govern.runtime.clock import format_utc
from govern.runtime.faults import crash_point
from govern.runtime.progress import NO_PROGRESS
from govern.store.atomic import io_error, write_atomic

#: Where backups go, relative to the workspace root (never inside the runs root).
DEFAULT_BACKUP_DIR = ".govern/repairs"
REPAIR_RECORD = "REPAIR.json"
REPAIR_VERSION = "0.1"
#: Problems a torn tail causes in a deep verification of its build (all about the log file).
_TORN_TAIL_CODES = frozenset({"E_SIZE_MISMATCH", "E_DIGEST_MISMATCH"})


@attrs.frozen
class TornTail:
    """A torn tail found in the latest build's log, and the sealed log it hides."""

    run_id: str
    log_path: Path
    artifact: str
    data_sha256: str
    data_bytes: int
    #: Offset of the torn tail = length of the log the seal attests, and that log's SHA-256.
    keep: int
    keep_sha256: str
    tail: bytes
    #: 1-based line number of the torn line.
    line: int

    def to_json(self) -> dict[str, Any]:
        """JSON form for output and REPAIR.json."""
        return {
            "run_id": self.run_id,
            "artifact": self.artifact,
            "before": {"bytes": self.data_bytes, "sha256": self.data_sha256},
            "after": {"bytes": self.keep, "sha256": self.keep_sha256},
            "removed": {
                "line": self.line,
                "offset": self.keep,
                "bytes": len(self.tail),
                "sha256": hashlib.sha256(self.tail).hexdigest(),
                "text": self.tail[:200].decode("utf-8", "backslashreplace"),
            },
        }


@attrs.frozen
class LogRepairPlan:
    """What ``repair --log`` found: nothing to do (``torn`` is None, ``reason`` says why) or a tail to cut."""

    torn: TornTail | None
    reason: str


def _refuse(message: str) -> GovernError:
    return GovernError("E_REPAIR_REFUSED", f"{message}; nothing was changed")


def _matches(data: bytes, entry: ManifestEntry) -> bool:
    return len(data) == entry.bytes and hashlib.sha256(data).hexdigest() == entry.sha256


def _read_log(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise _refuse(f"{path}: cannot open the log ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def plan_log_repair(workspace: Workspace, host: PluginHost) -> LogRepairPlan:
    """Find a torn tail in the latest build's log and prove it is the only damage. Reads only.

    Raises E_REPAIR_REFUSED when the build is damaged in any way a cut cannot undo.
    """
    artifact = workspace.config.workspace.delta_log_artifact
    builds = list_builds(workspace.runs_root)
    if not builds:
        return LogRepairPlan(None, f"{workspace.runs_root}: no delta log yet")
    latest = builds[-1]
    where = f"{latest.name}/{artifact}"
    check = host.verify_seal(latest, True, NO_PROGRESS)
    if check.manifest is None:
        raise _refuse(f"{latest.name}: the build's seal does not verify ({check.problems[0]}); repair only cuts a torn tail")
    entry = check.manifest.by_path().get(artifact)
    if entry is None:
        raise _refuse(f"{latest.name}: the build's manifest lists no {artifact}")
    other = [p for p in check.problems if not (p.code in _TORN_TAIL_CODES and p.where == artifact)]
    if other:
        more = f" (and {len(other) - 1} more)" if len(other) > 1 else ""
        raise _refuse(f"{latest.name}: damaged beyond a torn tail: {other[0]}{more}")
    data = _read_log(latest / artifact)
    if _matches(data, entry):
        if data and not data.endswith(b"\n"):
            raise _refuse(
                f"{where}: the torn last line is covered by the build's seal — it was sealed torn, which no crash "
                "does; govern does not rewrite a sealed run (inspect it; 'govern verify --log' reports it)"
            )
        return LogRepairPlan(None, f"{where}: ends with a complete line and matches its seal")
    keep = torn_tail_offset(data, entry)
    if keep is None:
        if data.endswith(b"\n") or not data:
            raise _refuse(
                f"{where}: differs from its sealed content ({len(data)} bytes, sealed {entry.bytes}) but ends with a "
                "complete line: not a torn write ('govern verify --log' says what changed)"
            )
        raise _refuse(
            f"{where}: cutting the torn last line does not give back the sealed log ({entry.bytes} bytes): more than "
            "a torn tail changed ('govern verify --log' says what)"
        )
    torn = TornTail(
        run_id=latest.name,
        log_path=latest / artifact,
        artifact=artifact,
        data_sha256=hashlib.sha256(data).hexdigest(),
        data_bytes=len(data),
        keep=keep,
        keep_sha256=entry.sha256,
        tail=data[keep:],
        line=data.count(b"\n") + 1,
    )
    return LogRepairPlan(torn, f"{where}: a torn last line (line {torn.line}, {len(torn.tail)} bytes) after the sealed log")


def backup_directory(workspace: Workspace, torn: TornTail, backup_root: Path | None) -> Path:
    """Where the backup of ``torn`` goes; refuses a place inside the runs root."""
    root = (backup_root if backup_root is not None else workspace.root / DEFAULT_BACKUP_DIR).absolute()
    runs_root = workspace.runs_root.absolute()
    if root == runs_root or runs_root in root.parents:
        raise GovernError("E_USAGE", f"{root}: the backup must be outside the runs root {runs_root}")
    return root / f"{torn.run_id}__{torn.data_sha256[:12]}"


def apply_log_repair(workspace: Workspace, host: PluginHost, torn: TornTail, backup: Path, clock: dt.datetime) -> dict[str, Any]:
    """Back up the torn log, then cut its tail; return what REPAIR.json records. Call under the lock."""
    record = torn.to_json()
    record.update(
        {
            "repair_version": REPAIR_VERSION,
            "command": "govern repair --log",
            "created_utc": format_utc(clock),
            "tool": {"name": "govern", "version": __version__},
            "runs_root": workspace.config.workspace.runs_root,
            "backup": Path(torn.artifact).name,
        }
    )
    created = [d for d in (backup, *backup.parents) if not d.exists()]
    try:
        try:
            backup.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise io_error("create", backup, exc, "nothing was changed") from exc
        original = _read_log(torn.log_path)
        if len(original) != torn.data_bytes or hashlib.sha256(original).hexdigest() != torn.data_sha256:
            raise _refuse(f"{torn.log_path}: changed while being repaired (is something still appending to it?)")
        write_atomic(backup / Path(torn.artifact).name, original)
        write_atomic(backup / REPAIR_RECORD, dump_canonical(record))
        crash_point("after-backup:repair")
    except BaseException:
        # The log was not touched: take back the backup folders this repair created.
        for directory in created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    with interrupts.commit_point():  # the cut is the repair: never interrupted half-way
        _truncate(torn)
    crash_point("after-truncate:repair")
    check = host.verify_seal(torn.log_path.parent, True, NO_PROGRESS)
    if not check.ok:
        raise GovernError(
            "E_LOG_TAMPERED",
            f"{torn.run_id}: still does not verify after the repair ({check.problems[0]}); the original is in {backup}",
        )
    return record


def _truncate(torn: TornTail) -> None:
    """Cut the log at ``torn.keep``: one ftruncate, then fsync (an fsync failure is fatal)."""
    path = torn.log_path
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise io_error("open", path, exc, "the log is unchanged") from exc
    try:
        if os.fstat(fd).st_size != torn.data_bytes:
            raise _refuse(f"{path}: changed while being repaired (is something still appending to it?)")
        try:
            os.ftruncate(fd, torn.keep)
        except OSError as exc:
            raise io_error("truncate", path, exc, "the log is unchanged; the backup is kept") from exc
        try:
            faults.fsync(fd, path)
        except OSError as exc:
            raise io_error("fsync", path, exc, "the log is cut but may not be durable; the backup is kept") from exc
    finally:
        os.close(fd)
