"""Verifying a sealed run: the seal, the manifest, and every payload file (``govern verify``).

Every problem is reported, not only the first (bagit-python's habit): a missing file does
not hide a modified one. Paths come from a manifest that may be hostile, so each is checked
by :func:`govern.paths.manifest_path_problem` before anything is opened, and files are only
ever reached through the walk of the run folder itself — never by joining a manifest path.
"""

from __future__ import annotations

from pathlib import Path

from govern.errors import Problem
from govern.hashing import hash_files
from govern.manifest import SealCheck, read_seal
from govern.progress import NO_PROGRESS, Progress
from govern.tree import scan_run_tree


def verify_run(run_dir: Path, progress: Progress = NO_PROGRESS) -> SealCheck:
    """Check the seal, the manifest and every file of ``run_dir``; collect all problems."""
    run_dir = Path(run_dir)
    seal = read_seal(run_dir)
    problems: list[Problem] = list(seal.problems)
    if seal.manifest is None:
        return SealCheck(run_dir, seal.root_sha256, None, tuple(problems))
    scan = scan_run_tree(run_dir, include_seal_leftovers=True)
    problems.extend(scan.problems)
    listed = seal.manifest.by_path()
    on_disk = {file.path: file for file in scan.files}
    for path in sorted(listed.keys() - on_disk.keys()):
        problems.append(Problem("E_FILE_MISSING", path, "listed in the manifest, not on disk"))
    for path in sorted(on_disk.keys() - listed.keys()):
        problems.append(Problem("E_FILE_UNLISTED", path, "on disk, not listed in the manifest"))
    to_hash = []
    for path in sorted(on_disk.keys() & listed.keys()):
        expected, found = listed[path], on_disk[path]
        if expected.bytes != found.size:
            problems.append(Problem("E_SIZE_MISMATCH", path, f"{found.size} bytes, the manifest says {expected.bytes}"))
        else:
            to_hash.append(found)
    progress.start(sum(f.size for f in to_hash), f"verifying {run_dir.name}")
    for digest in hash_files(to_hash, progress):
        if digest.problem is not None:
            problems.append(digest.problem)
        elif digest.sha256 != listed[digest.path].sha256:
            problems.append(Problem("E_DIGEST_MISMATCH", digest.path, f"sha256 {digest.sha256}, the manifest says {listed[digest.path].sha256}"))
    return SealCheck(run_dir, seal.root_sha256, seal.manifest, tuple(problems))
