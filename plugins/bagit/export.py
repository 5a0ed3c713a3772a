"""A sealed run written out as a BagIt 1.0 bag (``govern export RUN --format bagit DIR``).

The bag (docs/registry-kinds.md, "Exporting a run as a bag"):

- ``data/<path>`` for every file the run's manifest lists (run.json included), byte for byte;
- ``manifest-sha256.txt``: the manifest's own SHA-256 of each file, checked against the bytes
  as they are copied (a file changed since its seal was checked stops the export);
- ``govern/manifest.json`` and ``govern/MANIFEST.sha256``: the run's seal, as tag files, so
  the bag still proves which run it came from (``sha256sum -c`` works on them);
- ``bagit.txt`` (BagIt 1.0, UTF-8), ``bag-info.txt`` (``Bag-Software-Agent``, ``Bagging-Date``
  — the date of the run's ``created_utc``, never the wall clock — ``External-Identifier`` the
  run id, ``Govern-Root-SHA256``, ``Payload-Oxum``), and ``tagmanifest-sha256.txt`` over every
  tag file.

The same run gives the same bytes. The bag is written in a hidden sibling of ``DIR`` and
renamed into place at the end: ``DIR`` is either absent/empty or the whole bag, never a part.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import attrs

from govern.__about__ import __version__
from govern.errors import GovernError
from govern.format.bagit import PAYLOAD_DIR, bag_info_bytes, bagit_txt, manifest_bytes, payload_oxum
from govern.format.jsonio import loads_strict
from govern.format.manifest import SealCheck
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.store.atomic_folder import check_output_folder, staged_folder, write_new_file

#: The seal files of a run, carried in the bag as tag files under this folder.
SEAL_TAG_DIR = "govern"
_BLOCK = 1 << 20


@attrs.frozen
class ExportedBag:
    """What ``govern export`` wrote: the run, its root, the bag's folder, payload files and bytes."""

    run_id: str
    root_sha256: str
    bag_dir: Path
    files: int
    bytes: int


def _copy_checked(source: Path, target: Path, expected: str, where: str) -> None:
    """Copy ``source`` to ``target``, hashing the bytes as they go; E_SNAPSHOT_UNVERIFIED when
    they are not the sealed ones (``expected``)."""
    digest = hashlib.sha256()
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while block := reader.read(_BLOCK):
            digest.update(block)
            writer.write(block)
        writer.flush()
        os.fsync(writer.fileno())
    if digest.hexdigest() != expected:
        raise GovernError("E_SNAPSHOT_UNVERIFIED", f"{where}: changed since its seal was checked (sha256 {digest.hexdigest()}, sealed {expected}); nothing exported")


def _bagging_date(run_dir: Path) -> str:
    """The date of the run's ``created_utc`` (run.json): the bag's Bagging-Date."""
    try:
        envelope = loads_strict((run_dir / "run.json").read_bytes())
        created = envelope["created_utc"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GovernError("E_JSON_INVALID", f"{run_dir / 'run.json'}: no created_utc to date the bag with ({exc}); nothing exported") from None
    if not isinstance(created, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", created):
        raise GovernError("E_JSON_INVALID", f"{run_dir / 'run.json'}: created_utc {created!r} is not YYYY-MM-DDTHH:MM:SSZ; nothing exported")
    return created[:10]


def _sealed_manifest(run_dir: Path, root_sha256: str) -> bytes:
    """The run's manifest.json, still the one its seal names."""
    data = (run_dir / "manifest.json").read_bytes()
    if hashlib.sha256(data).hexdigest() != root_sha256:
        raise GovernError("E_SEAL_MISMATCH", f"{run_dir / 'manifest.json'}: changed since its seal was checked; nothing exported")
    return data


def write_bag(seal: SealCheck, run_dir: Path, target: Path, progress: Progress = NO_PROGRESS) -> ExportedBag:
    """Write the verified sealed run at ``run_dir`` (``seal``: its deep check, which must be
    clean) as a bag at ``target`` (see the module's doc)."""
    if not seal.ok or seal.manifest is None or seal.root_sha256 is None:
        first = seal.problems[0] if seal.problems else None
        code = first.code if first is not None else "E_SEAL_MISSING"
        why = f"{first.where}: {first.message}" if first is not None else "no seal"
        raise GovernError(code, f"{run_dir}: the run's seal does not verify ({why}); nothing exported", problems=seal.problems)
    check_output_folder(target, "bag")
    bagging_date = _bagging_date(run_dir)
    files = seal.manifest.files
    with staged_folder(target, "bag", verb="export to", nothing="nothing exported") as staging:
        progress.start(len(files), "files")
        for entry in files:
            destination = staging / PAYLOAD_DIR / entry.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            _copy_checked(run_dir / entry.path, destination, entry.sha256, f"{run_dir.name}/{entry.path}")
            progress.advance(1)
        tags = {
            "bagit.txt": bagit_txt(),
            "bag-info.txt": bag_info_bytes(
                [
                    ("Bag-Software-Agent", f"govern {__version__}"),
                    ("Bagging-Date", bagging_date),
                    ("External-Identifier", seal.run_id),
                    ("Govern-Root-SHA256", seal.root_sha256),
                    ("Payload-Oxum", payload_oxum(entry.bytes for entry in files)),
                ]
            ),
            "manifest-sha256.txt": manifest_bytes((f"{PAYLOAD_DIR}/{entry.path}", entry.sha256) for entry in files),
            f"{SEAL_TAG_DIR}/manifest.json": _sealed_manifest(run_dir, seal.root_sha256),
            f"{SEAL_TAG_DIR}/MANIFEST.sha256": (run_dir / "MANIFEST.sha256").read_bytes(),
        }
        tags["tagmanifest-sha256.txt"] = manifest_bytes((name, hashlib.sha256(data).hexdigest()) for name, data in tags.items())
        for name, data in tags.items():
            write_new_file(staging / name, data)
    return ExportedBag(seal.run_id, seal.root_sha256, target, len(files), sum(entry.bytes for entry in files))
