"""Verifying a sealed run: the seal, the manifest, and every payload file (``govern verify``).

Every problem is reported, not only the first (bagit-python's habit): a missing file does
not hide a modified one. Paths come from a manifest that may be hostile, so each is checked
by :func:`govern.paths.manifest_path_problem` before anything is opened, and files are only
ever reached through the walk of the run folder itself — never by joining a manifest path.
"""

from __future__ import annotations

import os
from pathlib import Path

from govern.errors import Problem
from govern.hashing import FileHasher
from govern.manifest import SealCheck, read_seal
from govern.progress import NO_PROGRESS, Progress
from govern.tree import list_run_tree


def verify_run(run_dir: Path, progress: Progress = NO_PROGRESS) -> SealCheck:
    """Check the seal, the manifest and every file of ``run_dir``; collect all problems."""
    run_dir = Path(run_dir)
    seal = read_seal(run_dir)
    problems: list[Problem] = list(seal.problems)
    if seal.manifest is None:
        return SealCheck(run_dir, seal.root_sha256, None, tuple(problems))
    listing = list_run_tree(run_dir, include_seal_leftovers=True)
    problems.extend(listing.problems)
    listed = seal.manifest.by_path()
    on_disk = set(listing.paths)
    for path in sorted(listed.keys() - on_disk):
        problems.append(Problem("E_FILE_MISSING", path, "listed in the manifest, not on disk"))
    for path in sorted(on_disk - listed.keys()):
        problems.append(Problem("E_FILE_UNLISTED", path, "on disk, not listed in the manifest"))
    # Files both listed and on disk, in path order. Each is hashed whatever its size: the
    # fstat of the hash tells the size, so no stat of its own is needed first.
    selection = [index for index, path in enumerate(listing.paths) if path in listed]
    progress.start(len(selection), f"verifying {run_dir.name}")
    with FileHasher(listing, selection) as hasher:
        hashed = hasher.fingerprint(progress)
    failed = {position: (code, message) for position, code, message in hashed.problems}
    size_problems: list[Problem] = []
    hash_problems: list[Problem] = []
    for position, index in enumerate(selection):
        path = listing.paths[index]
        expected = listed[path]
        if position in failed:
            code, message = failed[position]
            size = _size_if_known(listing.location(index))
            if size is not None and size != expected.bytes:
                size_problems.append(Problem("E_SIZE_MISMATCH", path, f"{size} bytes, the manifest says {expected.bytes}"))
            else:
                hash_problems.append(Problem(code, path, message))
        elif hashed.sizes[position] != expected.bytes:
            size_problems.append(Problem("E_SIZE_MISMATCH", path, f"{hashed.sizes[position]} bytes, the manifest says {expected.bytes}"))
        else:
            found = hashed.sha256(position)
            if found != expected.sha256:
                hash_problems.append(Problem("E_DIGEST_MISMATCH", path, f"sha256 {found}, the manifest says {expected.sha256}"))
    problems.extend(size_problems)
    problems.extend(hash_problems)
    return SealCheck(run_dir, seal.root_sha256, seal.manifest, tuple(problems))


def _size_if_known(location: str) -> int | None:
    """The size of a file that could not be hashed, if a stat still tells it (a wrong size is
    reported as such, whatever else is wrong with the file)."""
    try:
        return os.stat(location, follow_symlinks=False).st_size
    except OSError:
        return None
