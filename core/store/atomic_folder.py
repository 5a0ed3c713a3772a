"""A new output folder written whole or not at all (``govern report html --out DIR``).

The folder's files are written into a staging folder beside the target (``TEMP_PREFIX``, so
govern's clean-up recognises it), each fsynced, then the staging folder is renamed to the
target in one step. The target must not exist or be an empty folder: an output folder is
never overwritten (``E_OUTPUT_EXISTS``), and a reader, or a crash at any instant, sees no
folder (or the empty one) or the complete one — never a half-written site.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from govern.errors import GovernError
from govern.format.paths import manifest_path_problem
from govern.runtime import interrupts
from govern.store.atomic import TEMP_PREFIX, fsync_directory, io_error


def check_output_folder(target: Path, what: str) -> None:
    """``target`` must not exist, or be an empty folder (E_OUTPUT_EXISTS otherwise), in a
    folder that exists (E_NOT_A_DIRECTORY). ``what`` names the output in the message."""
    if not target.parent.is_dir():
        raise GovernError("E_NOT_A_DIRECTORY", f"{target.parent}: no such folder to write the {what} into; nothing written")
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise GovernError("E_OUTPUT_EXISTS", f"{target}: exists and is not an empty folder; the {what} never overwrites it (choose another folder)")


def write_folder_atomic(target: Path, files: Mapping[str, bytes], *, what: str) -> None:
    """Create the folder ``target`` holding ``files`` (relative POSIX path → bytes), all or
    nothing (see the module's doc); E_OUTPUT_EXISTS / E_NOT_A_DIRECTORY as
    :func:`check_output_folder`, E_IO naming the target on a write failure."""
    target = Path(target)
    for relpath in files:
        problem = manifest_path_problem(relpath)
        if problem is not None:  # a bug in the caller, never user input: say which path
            raise GovernError("E_USAGE", f"{relpath!r}: not a relative path inside the {what}: {problem}")
    check_output_folder(target, what)
    staging = target.parent / f"{TEMP_PREFIX}{os.getpid()}-{target.name}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise io_error("create", staging, exc, "nothing written") from None
    try:
        with interrupts.staging():
            for relpath, data in sorted(files.items()):
                path = staging / relpath
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "xb") as writer:
                    writer.write(data)
                    writer.flush()
                    os.fsync(writer.fileno())
            for folder, _dirs, _files in os.walk(staging):
                fsync_directory(Path(folder))
            with interrupts.commit_point():
                # Checked again: another process may have filled the target meanwhile.
                check_output_folder(target, what)
                if target.exists():
                    target.rmdir()
                os.rename(staging, target)
                fsync_directory(target.parent)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise io_error("write", target, exc, "nothing written") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
