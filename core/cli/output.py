"""How commands talk to people and machines: text on a terminal, one JSON document with --json.

A command never prints. It hands its typed result to :class:`Output` once (``show``; a
plugin's command may hand over ready-made data and lines with ``emit``) and may add warnings;
:func:`govern.cli.main` renders everything at the end, choosing the result type's one JSON or
one text renderer (:mod:`govern.cli.rendering`) from ``--json``, so ``--json`` always yields
exactly one document on stdout — including for errors — and text mode keeps data on stdout
and diagnostics on stderr.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from govern.cli.rendering import CommandResult, render_text, to_json
from govern.errors import ExitCode, GovernError, problem_json
from govern.runtime.progress import NO_PROGRESS, Progress, ThrottledProgress


class OkLine(str):
    """A result line saying something checked out (``OK  RUN …``).

    ``-q`` leaves these out, so a quiet run prints only its problems (and its summary when it
    failed); a quiet run that passed prints nothing."""


class Output:
    """Collects one command's result, warnings and error, then renders them."""

    def __init__(self, *, json_mode: bool = False, quiet: bool = False, verbose: bool = False) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        self.command: str | None = None
        self.result: CommandResult | None = None
        self.data: dict[str, Any] | None = None
        self.lines: list[str] = []
        self.exit_code: int = ExitCode.OK
        self.warnings: list[str] = []
        self.error: GovernError | None = None

    def show(self, result: CommandResult) -> None:
        """Record the command's typed result; ``render`` renders it as text or JSON, and its
        ``exit_code`` becomes the command's."""
        self.result = result
        self.exit_code = result.exit_code

    def emit(self, data: dict[str, Any], lines: Iterable[str], exit_code: int = ExitCode.OK) -> None:
        """Record a result already rendered: ``data`` for --json, ``lines`` for people.

        For plugins' own commands; govern's commands hand a typed result to :meth:`show`."""
        self.data = data
        self.lines = list(lines)
        self.exit_code = exit_code

    def warn(self, message: str) -> None:
        """A warning: printed to stderr at once in text mode, listed in the JSON document."""
        self.warnings.append(message)
        if not self.json_mode:
            print(f"govern: warning: {message}", file=sys.stderr, flush=True)

    def fail(self, error: GovernError) -> None:
        """Record the error that ended the command."""
        self.error = error
        self.exit_code = error.exit_code

    @contextlib.contextmanager
    def progress(self) -> Iterator[Progress]:
        """A :class:`Progress` drawing bars on a terminal; silent when piped, quiet or --json.

        Every command's bars are throttled (:class:`~govern.runtime.progress.ThrottledProgress`): a few
        redraws a second, however often the work reports (issue 7: bars cost < 2%)."""
        if self.json_mode or self.quiet or not sys.stderr.isatty():
            yield NO_PROGRESS
            return
        bar = _TerminalProgress()
        try:
            with ThrottledProgress(bar) as progress:
                yield progress
        finally:
            bar.close()

    def render(self) -> int:
        """Print the result (or error) and return the exit code."""
        if self.json_mode:
            doc: dict[str, Any] = {
                "command": self.command,
                "ok": self.error is None and self.exit_code == ExitCode.OK,
                "exit_code": int(self.exit_code),
                "result": to_json(self.result) if self.result is not None else self.data,
                "warnings": self.warnings,
                "error": None if self.error is None else error_json(self.error),
            }
            sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        else:
            lines = render_text(self.result) if self.result is not None else self.lines
            if self.quiet:
                lines = [] if self.exit_code == ExitCode.OK else [line for line in lines if not isinstance(line, OkLine)]
            if lines:
                sys.stdout.write("\n".join(lines) + "\n")
            if self.error is not None:
                for line in error_lines(self.error):
                    print(line, file=sys.stderr)
        sys.stdout.flush()
        return int(self.exit_code)


def error_json(error: GovernError) -> dict[str, Any]:
    """The ``error`` member of a JSON document."""
    return {
        "code": error.code,
        "message": error.message,
        "problems": [problem_json(p) for p in error.problems],
    }


def error_lines(error: GovernError) -> list[str]:
    """``govern: error: CODE: message``, then one indented line per further problem.

    An interrupt is not an error of the command: ``govern: interrupted; nothing written``."""
    if error.exit_code == ExitCode.INTERRUPTED:
        return [f"govern: {error.message}"]
    lines = [f"govern: error: {error.code}: {error.message}"]
    lines.extend(f"  {problem}" for problem in error.problems[1:])
    return lines


class _TerminalProgress:
    """Progress bars on stderr (click's bar, vendored by typer); one bar per ``start``."""

    def __init__(self) -> None:
        self._bar: Any = None  # typer.progressbar's bar (a vendored click type typer does not export)

    def start(self, total: int, label: str) -> None:
        import typer

        self.close()
        if total > 0:
            self._bar = typer.progressbar(length=total, label=label, file=sys.stderr, show_eta=True)
            self._bar.__enter__()

    def advance(self, amount: int) -> None:
        if self._bar is not None:
            self._bar.update(amount)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
