"""A ``git`` registry (issue 16): ``govern delta build`` over a repository of ``git_files``
files and ``git_commits`` commits, against git's own plumbing doing the least the same reading
needs, in the same run.

The repository is written once by ``git fast-import`` (untimed): a first commit of
``git_files`` files of ``git_file_bytes`` bytes in 100 folders, then commits each modifying 1%
of the files, adding 0.2% and removing 0.2%. The peer is ``git diff-tree -r --no-renames
--stdin`` over the same pairs of consecutive commits (the first against the empty tree), then
``git cat-file --batch`` of every blob those diffs add or change — the tree diffs and the blob
reads a build must do, with no hashing and no records. govern builds the whole history from a
cold start each round: its blob-digest cache and the previous round's build are removed first
(untimed), so it reads and hashes every blob, as the peer reads every blob. Target: ≤ 1.5×.
A reference row times the git plugin's reading alone (a Python process importing it and
reading the versions, cold cache): what the kind costs apart from the build around it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

from benchmarks.context import BenchContext, SetupFailed, Sizes
from benchmarks.generate import write_workspace
from benchmarks.report import WorkloadReport, compare_row
from benchmarks.timing import Command, measure_alternately
from benchmarks.workloads import Workload

TARGET = 1.5
CONFIG = """[registries.history]
kind = "git"
repo = "repo"
ref = "refs/heads/main"
"""
#: The reference: the git plugin's reading alone, in a Python process of its own (imports,
#: tree diffs, every blob read and hashed), without the build around it.
READER_ONLY = """
import sys
from pathlib import Path
from govern.plugins.git_history.history import read_versions
from govern.plugins.git_history.source import GitSource
from govern.runtime.progress import NO_PROGRESS
workspace = Path(sys.argv[1])
read_versions(GitSource("history", workspace / "repo", "repo", "refs/heads/main", ""), workspace, NO_PROGRESS)
"""
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "LC_ALL": "C"}


def _content(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size // 2).hex().encode()[:size]


def fast_import_stream(files: int, commits: int, file_bytes: int, seed: int = 16) -> bytes:
    """A ``git fast-import`` stream of the workload's history (deterministic)."""
    rng = random.Random(seed)
    live = [f"d{i % 100:02d}/f{i:06d}.txt" for i in range(files)]
    next_id = files
    out = bytearray()
    for number in range(commits):
        if number == 0:
            changes = [(path, _content(rng, file_bytes)) for path in live]
            removed: list[str] = []
        else:
            step = max(1, files // 100)
            modified = rng.sample(live, min(step, len(live)))
            removed = rng.sample([p for p in live if p not in set(modified)], max(1, files // 500))
            added = [f"d{(next_id + k) % 100:02d}/f{next_id + k:06d}.txt" for k in range(max(1, files // 500))]
            next_id += len(added)
            live = [p for p in live if p not in set(removed)] + added
            changes = [(path, _content(rng, file_bytes)) for path in modified + added]
        message = f"commit {number}\n".encode()
        out += b"commit refs/heads/main\n"
        out += f"committer Bench <bench@example.org> {1_700_000_000 + 60 * number} +0000\n".encode()
        out += b"data %d\n%s" % (len(message), message)
        for path in removed:
            out += f"D {path}\n".encode()
        for path, data in changes:
            out += f"M 100644 inline {path}\n".encode() + b"data %d\n%s\n" % (len(data), data)
        out += b"\n"
    return bytes(out)


def _git(repo: Path, *arguments: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *arguments], input=stdin, capture_output=True, env={**os.environ, **GIT_ENV})
    if done.returncode != 0:
        raise SetupFailed(f"git {' '.join(arguments[:2])}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _peer_inputs(repo: Path, root: Path) -> tuple[Path, Path]:
    """The peer's stdin files: the pairs of trees for diff-tree, the blobs for cat-file."""
    empty = _git(repo, "hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()
    trees = _git(repo, "log", "--first-parent", "--reverse", "--format=%T", "refs/heads/main").decode().split()
    pairs = "".join(f"{before} {after}\n" for before, after in zip([empty, *trees[:-1]], trees, strict=True))
    (root / "pairs.txt").write_text(pairs)
    raw = _git(repo, "diff-tree", "-r", "--no-renames", "--stdin", stdin=pairs.encode()).decode()
    blobs = {fields[3] for line in raw.splitlines() if line.startswith(":") and (fields := line.split())[4] != "D"}
    (root / "blobs.txt").write_text("".join(f"{blob}\n" for blob in sorted(blobs)))
    return root / "pairs.txt", root / "blobs.txt"


def _run(ctx: BenchContext) -> WorkloadReport:
    sizes = ctx.sizes
    root = ctx.workdir(WORKLOAD.name)
    workspace = root / "workspace"
    runs_root = write_workspace(ctx, workspace, CONFIG)
    config = workspace / "registry_config.toml"
    config.write_text(config.read_text().replace("[workspace]\n", '[workspace]\nrecord_version = "0.2"\n', 1))
    repo = workspace / "repo"
    _git(workspace, "init", "-q", "--bare", "repo")
    _git(repo, "fast-import", "--quiet", stdin=fast_import_stream(sizes.git_files, sizes.git_commits, sizes.git_file_bytes))
    pairs, blobs = _peer_inputs(repo, root)
    report = WorkloadReport(
        WORKLOAD.name,
        WORKLOAD.title,
        f"{sizes.git_files} files of {sizes.git_file_bytes} B x {sizes.git_commits} commits, "
        f"{len(blobs.read_text().split())} blobs; {sizes.repeat} rounds after {sizes.warmup} warm-up, alternating",
    )

    def cold_start() -> None:
        shutil.rmtree(workspace / ".govern" / "cache" / "git-blobs", ignore_errors=True)
        for path in runs_root.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    build = Command.single("govern delta build", ctx.govern("-C", workspace, "delta", "build", "--at", "2030-01-01T00:00:00Z"), prepare=cold_start)
    peer = Command.single(
        "git diff-tree + cat-file",
        ["sh", "-c", 'git -C "$1" diff-tree -r --no-renames --stdin < "$2" > /dev/null && git -C "$1" cat-file --batch < "$3" > /dev/null', "peer", repo, pairs, blobs],
        env={**os.environ, **GIT_ENV},
    )
    reader = Command.single("reader alone", [ctx.python, "-c", READER_ONLY, workspace], prepare=cold_start)
    missing = ctx.missing("git diff-tree + cat-file", "git")
    results = measure_alternately([build, reader] + ([] if missing else [peer]), sizes.repeat, sizes.warmup)
    against = missing or results[peer.label]
    report.rows.append(compare_row(f"delta build ({sizes.git_commits} commits) vs diff-tree + cat-file", results[build.label], against, TARGET, f"<= {TARGET}"))
    report.rows.append(
        compare_row("reference: the git reader alone (python, cold cache) vs diff-tree + cat-file", results[reader.label], against, TARGET, f"<= {TARGET}", reference=True)
    )
    return report


def _disk(sizes: Sizes) -> int:
    blobs = sizes.git_files + sizes.git_commits * sizes.git_files // 70
    return blobs * (sizes.git_file_bytes + 200) * 2


WORKLOAD = Workload("git_history", "a git registry's history vs git diff-tree + cat-file", _run, _disk)
