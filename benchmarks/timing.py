"""Running commands as child processes and measuring them: wall time and peak memory.

Each child is started by :mod:`benchmarks.spawn_server` (a small separate interpreter, so the
harness's own memory does not leak into the figures) and reaped with :func:`os.wait4`, whose
rusage reports ``ru_maxrss``: the peak resident set of the child or of the largest of its own
reaped descendants (a shell's pipeline, govern's worker processes). Commands of one
comparison run alternately — one sample of each per round, the order reversed every other
round — so that load from other processes on a shared machine falls on all of them alike;
the medians are compared.
"""

from __future__ import annotations

import atexit
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Argv = tuple[str, ...]


@dataclass(frozen=True)
class Command:
    """One thing to time: one argv, or several run in parallel (timed until the last ends).

    ``prepare`` runs before every run, untimed (fresh copies, removing the previous seal…).
    """

    label: str
    argvs: tuple[Argv, ...]
    prepare: Callable[[], None] | None = None
    cwd: Path | None = None
    ok_codes: frozenset[int] = frozenset({0})
    env: dict[str, str] | None = None

    @classmethod
    def single(cls, label: str, argv: Sequence[str], **options) -> Command:
        """A command of one process."""
        return cls(label, (tuple(str(a) for a in argv),), **options)

    @classmethod
    def parallel(cls, label: str, argvs: Sequence[Sequence[str]], **options) -> Command:
        """Several processes started together; the sample lasts until all have ended."""
        return cls(label, tuple(tuple(str(a) for a in argv) for argv in argvs), **options)

    def shell_text(self) -> str:
        """The command as a reader would type it (for reports)."""
        return " & ".join(" ".join(argv) for argv in self.argvs)


@dataclass(frozen=True)
class Sample:
    """One run: wall-clock seconds and the peak RSS (bytes) of its largest process."""

    seconds: float
    peak_bytes: int


class CommandFailed(Exception):
    """A child exited with a code the command does not accept."""

    def __init__(self, command: Command, code: int, stderr_tail: str) -> None:
        super().__init__(f"{command.label}: exit {code}: {stderr_tail}")
        self.command = command
        self.code = code
        self.stderr_tail = stderr_tail


class _Spawner:
    """The connection to :mod:`benchmarks.spawn_server`, started on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None

    def run(self, job: dict) -> dict:
        if self._process is None or self._process.poll() is not None:
            server = Path(__file__).with_name("spawn_server.py")
            self._process = subprocess.Popen(
                [sys.executable, "-S", str(server)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
            )
            atexit.register(self.close)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError("the benchmark spawn server died")
        return json.loads(answer)

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait()


_SPAWNER = _Spawner()


def run_once(command: Command) -> Sample:
    """Prepare (untimed), then run ``command`` and return its :class:`Sample`."""
    if command.prepare is not None:
        command.prepare()
    with tempfile.NamedTemporaryFile(prefix="govern-bench-stderr-") as stderr:
        job = {
            "argvs": [list(argv) for argv in command.argvs],
            "cwd": None if command.cwd is None else str(command.cwd),
            "env": command.env,
            "stderr": stderr.name,
        }
        result = _SPAWNER.run(job)
        bad = [code for code in result["codes"] if code not in command.ok_codes]
        if bad:
            lines = Path(stderr.name).read_text("utf-8", "replace").strip().splitlines()
            raise CommandFailed(command, bad[0], lines[-1] if lines else "(no message)")
    return Sample(result["seconds"], max(result["peaks"]))


@dataclass
class Measurement:
    """The samples of one command, or why there are none (skipped, failed)."""

    label: str
    command: str = ""
    samples: list[Sample] = field(default_factory=list)
    skipped: str | None = None
    failed: str | None = None

    @property
    def ok(self) -> bool:
        """True when the command ran every time."""
        return bool(self.samples) and self.skipped is None and self.failed is None

    @property
    def median(self) -> float | None:
        """Median seconds, or None."""
        return statistics.median(s.seconds for s in self.samples) if self.ok else None

    @property
    def peak_bytes(self) -> int | None:
        """Largest peak RSS over the samples, or None."""
        return max(s.peak_bytes for s in self.samples) if self.ok else None

    @classmethod
    def skip(cls, label: str, reason: str) -> Measurement:
        """A command that was not run, and why (with the command that would install it)."""
        return cls(label, skipped=reason)


def measure_alternately(commands: Sequence[Command], repeat: int, warmup: int = 0) -> dict[str, Measurement]:
    """Run every command ``warmup`` times untimed, then ``repeat`` rounds of one sample each.

    Rounds alternate the order (A B C, then C B A…). A command that fails is not run again
    and its measurement carries the failure; the others go on.
    """
    results = {c.label: Measurement(c.label, c.shell_text()) for c in commands}
    for round_index in range(warmup + repeat):
        order = list(commands) if round_index % 2 == 0 else list(reversed(commands))
        for command in order:
            result = results[command.label]
            if result.failed is not None:
                continue
            try:
                sample = run_once(command)
            except CommandFailed as failure:
                result.failed = f"exit {failure.code}: {failure.stderr_tail}"
                result.samples.clear()
                continue
            if round_index >= warmup:
                result.samples.append(sample)
    return results
