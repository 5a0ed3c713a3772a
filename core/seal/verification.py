"""Verifying a sealed run: the seal, the manifest, and every payload file (``govern verify``).

Every problem is reported, not only the first (bagit-python's habit): a missing file does
not hide a modified one. Paths come from a manifest that may be hostile, so each is checked
by :func:`govern.format.paths.manifest_path_problem` before anything is opened, and files are only
ever reached through the walk of the run folder itself — never by joining a manifest path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from govern.errors import Problem
from govern.format.artifact_paths import artifact_bounds
from govern.format.manifest import SEAL_NAME, ManifestEntry, SealCheck
from govern.runtime.progress import NO_PROGRESS, Progress
from govern.seal.hashing import FileHasher, Fingerprints
from govern.seal.seal_file import read_seal
from govern.seal.tree import list_run_tree


def verify_run(run_dir: Path, progress: Progress = NO_PROGRESS) -> SealCheck:
    """Check the seal, the manifest and every file of ``run_dir``; collect all problems."""
    run_dir = Path(run_dir)
    if not os.path.lexists(run_dir / SEAL_NAME):
        return read_seal(run_dir)  # not sealed: nothing to hash
    listing = list_run_tree(run_dir, include_seal_leftovers=True)
    # Every file on disk is hashed — the workers start at once — while this process reads
    # the manifest; a file the manifest does not list is reported, its digest never looked at.
    with FileHasher(listing) as hasher:
        collect = hasher.start_fingerprint()
        seal = read_seal(run_dir)
        if seal.manifest is None:
            return SealCheck(run_dir, seal.root_sha256, None, seal.problems)
        progress.start(len(listing.paths), f"verifying {run_dir.name}")
        hashed = collect(progress)
    problems: list[Problem] = [*seal.problems, *listing.problems]
    problems.extend(_file_problems(listing.paths, listing.location, hashed, seal.manifest.by_path()))
    return SealCheck(run_dir, seal.root_sha256, seal.manifest, tuple(problems))


def verify_payload(run_dir: Path, listed: Mapping[str, ManifestEntry], relpath: str | None, progress: Progress = NO_PROGRESS) -> list[Problem]:
    """The problems of the files of ``run_dir`` at or under ``relpath`` (every file when
    None) against ``listed``, their manifest entries — :func:`verify_run`'s checks, restricted
    to those paths: each listed file present, of its size and SHA-256; none unlisted.

    The seal itself is the caller's to have read (a build reads each seal once).
    """
    listing = list_run_tree(Path(run_dir), include_seal_leftovers=True)
    if relpath is None:
        selection: Sequence[int] = range(len(listing.paths))
    else:
        exact, start, stop = artifact_bounds(listing.paths, relpath)
        selection = [*([exact] if exact is not None else []), *range(start, stop)]
    paths = [listing.paths[index] for index in selection]
    with FileHasher(listing, selection) as hasher:
        progress.start(len(paths), f"verifying {Path(run_dir).name}")
        hashed = hasher.fingerprint(progress)
    under = relpath is None or (lambda where: where == relpath or where.startswith(relpath + "/"))
    problems = [p for p in listing.problems if under is True or under(p.where)]
    problems.extend(_file_problems(paths, lambda position: listing.location(selection[position]), hashed, listed))
    return problems


def _file_problems(
    paths: Sequence[str], location: Callable[[int], str], hashed: Fingerprints, listed: Mapping[str, ManifestEntry]
) -> list[Problem]:
    """The files ``paths`` found on disk (``location(i)`` is where ``paths[i]`` is; hashed in
    that order) against the manifest entries ``listed``: missing, unlisted, then in path order
    each size (told by the hash's fstat), then each digest."""
    problems: list[Problem] = []
    on_disk = set(paths)
    for path in sorted(listed.keys() - on_disk):
        problems.append(Problem("E_FILE_MISSING", path, "listed in the manifest, not on disk"))
    for path in sorted(on_disk - listed.keys()):
        problems.append(Problem("E_FILE_UNLISTED", path, "on disk, not listed in the manifest"))
    failed = {position: (code, message) for position, code, message in hashed.problems}
    size_problems: list[Problem] = []
    hash_problems: list[Problem] = []
    sizes = hashed.sizes
    for position, (path, found) in enumerate(zip(paths, hashed.hex_digests())):
        expected = listed.get(path)
        if expected is None:
            continue
        if failed and position in failed:
            code, message = failed[position]
            size = _size_if_known(location(position))
            if size is not None and size != expected.bytes:
                size_problems.append(Problem("E_SIZE_MISMATCH", path, f"{size} bytes, the manifest says {expected.bytes}"))
            else:
                hash_problems.append(Problem(code, path, message))
        elif sizes[position] != expected.bytes:
            size_problems.append(Problem("E_SIZE_MISMATCH", path, f"{sizes[position]} bytes, the manifest says {expected.bytes}"))
        elif found != expected.sha256:
            hash_problems.append(Problem("E_DIGEST_MISMATCH", path, f"sha256 {found}, the manifest says {expected.sha256}"))
    problems.extend(size_problems)
    problems.extend(hash_problems)
    return problems


def _size_if_known(location: str) -> int | None:
    """The size of a file that could not be hashed, if a stat still tells it (a wrong size is
    reported as such, whatever else is wrong with the file)."""
    try:
        return os.stat(location, follow_symlinks=False).st_size
    except OSError:
        return None
