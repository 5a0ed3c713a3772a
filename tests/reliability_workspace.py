"""Small workspaces for the reliability tests (crash, I/O faults, concurrency, bad inputs).

A :class:`ReliabilityWorkspace` has one or more ``sealed`` registries whose snapshots are laid
down and sealed in-process (fast); the commands under test always run as the installed
``govern`` console script in a real subprocess, since what a crash, an I/O error or a rival
process does to the files on disk is the contract under test. :meth:`problems` is the
invariant checked after every kill: every visible run complete and verified, every log line
complete, the delta log's history intact — the in-process equivalent of
``govern verify --all --log``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import attrs

from helpers import clean_env, govern_executable, make_run, run_govern, seal_in_process

LOG_NAME = "REGISTRY_DELTA_LOG_v0_1.jsonl"
BUILD_SUFFIX = "__registry_delta_log_build"
TEMP_PREFIX = ".govern-tmp-"
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def clock(step: int) -> str:
    """The ``step``-th clock of a test: one minute apart, from 2024-01-01T00:00:00Z."""
    return (EPOCH + dt.timedelta(minutes=step)).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_id(step: int, slug: str) -> str:
    """The run id of a run made at :func:`clock` ``step``."""
    return (EPOCH + dt.timedelta(minutes=step)).strftime("%Y-%m-%d__%H%M%S__") + slug


def build_id(step: int) -> str:
    """The run id of a delta-log build at :func:`clock` ``step``."""
    return run_id(step, "registry_delta_log_build")


class ReliabilityWorkspace:
    """A workspace in ``root`` with registries ``reg_0 … reg_{n-1}`` (artifact ``REG_<i>.jsonl``)."""

    def __init__(self, root: Path, registries: int = 1) -> None:
        from govern.governance.scaffold import init_workspace

        self.root = Path(root)
        init_workspace(self.root)
        config = self.root / "registry_config.toml"
        tables = "".join(f'\n[registries.reg_{i}]\nkind = "sealed"\nartifact = "REG_{i}.jsonl"\n' for i in range(registries))
        config.write_text(config.read_text(encoding="utf-8") + tables, encoding="utf-8")
        self.registries = registries
        self.runs_root = self.root / ".codex" / "RUNS"
        self._host = None

    # ------------------------------------------------------------------ laying down evidence

    def add_snapshot(self, step: int, *, seal: bool = True, extra: Mapping[str, bytes] | None = None) -> Path:
        """A run at ``step`` holding every registry's artifact (content varies by step)."""
        files = {f"REG_{i}.jsonl": f'{{"step":{step},"registry":{i}}}\n'.encode() for i in range(self.registries)}
        files["notes/readme.txt"] = f"snapshot {step}\n".encode()
        files.update(extra or {})
        run_dir = make_run(self.runs_root, run_id(step, "snapshot"), files)
        if seal:
            seal_in_process(run_dir, at=clock(step))
        return run_dir

    def govern(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60):
        """Run ``govern -C <root> ARGS`` to completion."""
        return run_govern("-C", self.root, *args, env=env, timeout=timeout)

    def command(self, *args: str) -> list[str]:
        """The argv of ``govern -C <root> ARGS`` (for :func:`start_and_kill`)."""
        return [govern_executable(), "-C", str(self.root), *args]

    # ------------------------------------------------------------------ looking at the result

    def entries(self) -> list[str]:
        """Everything in the runs root but the lock file and the head folder, sorted."""
        return sorted(name for name in os.listdir(self.runs_root) if name not in (".govern.lock", "_log"))

    def builds(self) -> list[str]:
        """The delta-log builds, oldest first: sealed build runs a head object names (a build is
        committed by the put of its head ``_log/<seq>.json`` after its seal)."""
        heads = sorted((self.runs_root / "_log").glob("[0-9]*.json"))
        committed = {json.loads(head.read_bytes())["run_id"] for head in heads}
        return [
            name
            for name in self.entries()
            if name in committed and (self.runs_root / name / "MANIFEST.sha256").is_file()
        ]

    def half_published(self) -> list[str]:
        """Build runs never committed: a publish or commit a crash cut short (the next build removes them)."""
        return [name for name in self.entries() if name.endswith(BUILD_SUFFIX) and not name.startswith(TEMP_PREFIX) and name not in self.builds()]

    def leftovers(self) -> list[str]:
        """Hidden staging folders / temporary files in the runs root (crash debris)."""
        return [name for name in self.entries() if name.startswith(TEMP_PREFIX)]

    def host(self):
        """An in-process plugin host (built-ins and installed plugins), loaded once."""
        if self._host is None:
            from govern.host.manager import PluginHost

            self._host = PluginHost.from_environment()
            self._host.load_plugins()
        return self._host

    def workspace(self):
        """The loaded workspace."""
        from govern.config.workspace import load_workspace

        return load_workspace(explicit=self.root)

    def log_records(self) -> list[dict]:
        """The records of the latest build's log (strictly parsed), or [] without a build."""
        from govern.log.delta_log import parse_log_lines

        builds = self.builds()
        if not builds:
            return []
        data = (self.runs_root / builds[-1] / LOG_NAME).read_bytes()
        return parse_log_lines(data, builds[-1])

    def problems(self, *, allow_unsealed: bool = True) -> list[str]:
        """Everything wrong with the runs root, as ``govern verify --all --log`` would see it.

        Every visible run folder is either unsealed (when ``allow_unsealed``: an interrupted
        seal of a run that was never sealed) or sealed and deep-verified; every build's log
        ends with a complete line and parses strictly; the log's history verifies.
        """
        from govern.errors import GovernError
        from govern.log.delta_log import parse_log_lines
        from govern.log.verification import verify_log
        from govern.runs.listing import list_runs
        from govern.seal.verification import verify_run

        found: list[str] = []
        listing = list_runs(self.runs_root)
        found.extend(f"not a run folder: {name}" for name in listing.ignored)
        for run_dir in listing.runs:
            check = verify_run(run_dir)
            if not check.sealed and (allow_unsealed or run_dir.name.endswith(BUILD_SUFFIX)):
                continue  # an unsealed run (a build without its seal was never committed: not a build)
            found.extend(f"{run_dir.name}: {problem}" for problem in check.problems)
            if run_dir.name.endswith(BUILD_SUFFIX):
                data = (run_dir / LOG_NAME).read_bytes()
                if not data.endswith(b"\n"):
                    found.append(f"{run_dir.name}: the log's last line is incomplete")
                try:
                    parse_log_lines(data, run_dir.name)
                except GovernError as error:
                    found.append(f"{error.code}: {error.message}")
        result = verify_log(self.workspace(), self.host())
        for build in result.builds:
            found.extend(str(problem) for problem in build.problems)
        found.extend(str(problem) for problem in result.snapshot_problems)
        return found


@attrs.frozen
class Outcome:
    """How a started ``govern`` ended: killed by SIGKILL, or exited on its own with ``returncode``."""

    returncode: int
    stderr: str

    @property
    def killed(self) -> bool:
        """True when the process died of SIGKILL (its own crash point, or ours)."""
        return self.returncode == -signal.SIGKILL


def start_and_kill(
    argv: list[str],
    *,
    fault: str | None = None,
    stop_then_kill_after: float | None = None,
    kill_after: float | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Outcome:
    """Run ``argv`` and kill it, one of three ways.

    * ``fault``: ``GOVERN_FAULT=<point>[@N]`` — the process SIGKILLs itself at that point.
    * ``fault`` + ``stop_then_kill_after``: it SIGSTOPs itself there instead; we SIGCONT it
      and SIGKILL it that many seconds later (a random moment inside the write window).
    * ``kill_after`` alone: SIGKILL that many seconds after the start (anywhere at all).

    A process that finishes before the kill is reported with its own exit code. ``env`` is
    added to a clean environment (no GOVERN_* of the developer's shell).
    """
    extra = dict(env or {})
    if fault is not None:
        extra["GOVERN_FAULT"] = fault
        if stop_then_kill_after is not None:
            extra["GOVERN_FAULT_ACTION"] = "stop"
    process = subprocess.Popen(
        argv,
        env=clean_env(extra),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if stop_then_kill_after is not None:
            _, status = os.waitpid(process.pid, os.WUNTRACED)
            if os.WIFSTOPPED(status):
                os.kill(process.pid, signal.SIGCONT)
                time.sleep(stop_then_kill_after)
                process.kill()
            else:  # it ended before reaching the point; we reaped it ourselves
                process.returncode = os.waitstatus_to_exitcode(status)
        elif kill_after is not None:
            time.sleep(kill_after)
            process.kill()
        returncode = process.wait(timeout=timeout)
        stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
    return Outcome(returncode, stderr)
