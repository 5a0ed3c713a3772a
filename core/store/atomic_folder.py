"""A new output folder written whole or not at all (``govern report html --out DIR``,
``govern export RUN --format bagit DIR``).

The folder's files are written into a staging folder beside the target (``TEMP_PREFIX``, so
govern's clean-up recognises it), each fsynced, then the staging folder is renamed to the
target in one step. The target must not exist or be an empty folder: an output folder is
never overwritten (``E_OUTPUT_EXISTS``), and a reader, or a crash at any instant, sees no
folder (or the empty one) or the complete one — never a half-written site.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
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


@contextlib.contextmanager
def staged_folder(target: Path, what: str, *, verb: str = "write", nothing: str = "nothing written") -> Iterator[Path]:
    """Create the folder ``target`` whole or not at all (see the module's doc): checks it
    (:func:`check_output_folder`) and yields an empty staging folder beside it for the caller
    to fill, each file fsynced; when the block ends normally every folder under it is fsynced
    and it is renamed to ``target`` (checked again first: another process may have filled it
    meanwhile). On any error the staging folder is removed; an OSError becomes E_IO naming
    ``verb`` and the target, ending with ``nothing``."""
    check_output_folder(target, what)
    staging = target.parent / f"{TEMP_PREFIX}{os.getpid()}-{target.name}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise io_error("create", staging, exc, nothing) from None
    try:
        with interrupts.staging():
            yield staging
            for folder, _dirs, _files in os.walk(staging):
                fsync_directory(Path(folder))
            with interrupts.commit_point():
                check_output_folder(target, what)
                if target.exists():
                    target.rmdir()
                os.rename(staging, target)
                fsync_directory(target.parent)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise io_error(verb, target, exc, nothing) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_folder_atomic(target: Path, files: Mapping[str, bytes], *, what: str) -> None:
    """Create the folder ``target`` holding ``files`` (relative POSIX path → bytes), all or
    nothing (see the module's doc); E_OUTPUT_EXISTS / E_NOT_A_DIRECTORY as
    :func:`check_output_folder`, E_IO naming the target on a write failure."""
    target = Path(target)
    for relpath in files:
        problem = manifest_path_problem(relpath)
        if problem is not None:  # a bug in the caller, never user input: say which path
            raise GovernError("E_USAGE", f"{relpath!r}: not a relative path inside the {what}: {problem}")
    with staged_folder(target, what) as staging:
        for relpath, data in sorted(files.items()):
            write_new_file(staging / relpath, data)


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (and its folders) holding ``data``, fsynced: a file of a staged folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as writer:
        writer.write(data)
        writer.flush()
        os.fsync(writer.fileno())
