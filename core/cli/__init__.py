"""The ``govern`` command line: the only layer that parses arguments or prints.

:func:`main` moves global flags given after the command name to the front (so
``govern verify --json RUN`` works like ``govern --json verify RUN``), runs the typer app
without its own exception handling, and turns every outcome — result, usage error,
:class:`~govern.errors.GovernError`, unexpected crash — into exactly one rendering and exit
code. Tracebacks are shown only with ``-v`` or ``GOVERN_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping

# Not `from typing import TYPE_CHECKING`: typing costs ~2 ms that `govern --version` and
# verify's quick answer do not otherwise pay (type checkers know the name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from govern.errors import GovernError

# Everything else is imported where it is used: `govern --version` and verify's quick answer
# (govern.cli.quick_verify) return before the rest of govern is needed.

_FLAG_OPTIONS = {"--json", "-q", "--quiet", "-v", "--verbose", "--strict-plugins"}
_VALUE_OPTIONS = {"-C", "--workspace", "--lock-timeout"}


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options found anywhere (before ``--``) to the front of ``argv``."""
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        name = arg.split("=", 1)[0]
        if arg in _FLAG_OPTIONS:
            hoisted.append(arg)
        elif name in _VALUE_OPTIONS and "=" in arg:
            hoisted.append(arg)
        elif arg in _VALUE_OPTIONS and index + 1 < len(argv):
            hoisted.extend(argv[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return hoisted + rest


def _workspace_option(args: list[str]) -> Path | None:
    """The -C/--workspace value among the hoisted options (plugins need it before parsing)."""
    from pathlib import Path

    for index, arg in enumerate(args):
        if arg in ("-C", "--workspace") and index + 1 < len(args):
            return Path(args[index + 1])
        if arg.startswith("--workspace="):
            return Path(arg.split("=", 1)[1])
    return None


def _before_command(args: list[str]) -> tuple[set[str], str | None]:
    """The flags given before the command (global options first, as hoisted), and the
    command's name (None when there is none, or ``--`` comes first): the one walk of the
    global options that ``--version`` and the lazy build read."""
    flags: set[str] = set()
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _VALUE_OPTIONS:
            index += 2
            continue
        if arg == "--":
            return flags, None
        if not arg.startswith("-"):
            return flags, arg  # the command (or its arguments) start here
        flags.add(arg)
        index += 1
    return flags, None


def _asks_for_version(args: list[str]) -> bool:
    """``--version``/``-V`` among the global options (before the command), e.g. ``--json -V``."""
    return bool(_before_command(args)[0] & {"--version", "-V"})


def built_in_command(args: list[str]) -> str | None:
    """The built-in command ``args`` (global options first, as hoisted) invoke, when it is
    one of :data:`govern.cli.app.COMMAND_MODULES` and no help is asked of the root; else None
    (every command is then built: the root's help lists them all, and an unknown name may be
    a plugin's command or a typo click explains)."""
    from govern.cli.app import COMMAND_MODULES

    flags, command = _before_command(args)
    if flags & {"-h", "--help"} or command not in COMMAND_MODULES:
        return None
    return command


def _print_traceback() -> None:
    """The current exception's traceback on stderr (``-v``); imported only when shown."""
    import traceback

    traceback.print_exc()


def describe_os_error(error: OSError) -> str:
    """``PATH: reason`` (``PATH -> OTHER: reason`` for a rename or link) for an OSError."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return reason
    where = str(error.filename) if error.filename2 is None else f"{error.filename} -> {error.filename2}"
    return f"{where}: {reason}"


def main(
    argv: list[str] | None = None,
    *,
    plugins: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run govern with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    ``plugins`` (name -> plugin object, or ``(name, object)`` pairs) are registered after the
    built-ins as if they were installed. ``environ`` is the invocation's environment (default:
    this process's): every variable govern reads while the command runs (``GOVERN_*``,
    ``SOURCE_DATE_EPOCH``) comes from it, so in-process invocations — tests, threads — each
    see their own (:mod:`govern.runtime.environment`).

    SIGINT and SIGTERM end the command at once (:mod:`govern.runtime.interrupts`): one line,
    ``govern: interrupted; nothing written``, exit 130 (``E_INTERRUPTED``)."""
    from govern.runtime import environment, interrupts

    env = dict(os.environ) if environ is None else environ
    named = tuple(plugins.items()) if isinstance(plugins, Mapping) else tuple(plugins)
    with interrupts.handling_interrupts(), environment.binding(env):
        try:
            return _run(argv, named, env)
        except KeyboardInterrupt:
            # Arrived before the command's own handling started (parsing the options).
            from govern.cli.output import Output

            interrupts.hold_interrupts()
            output = Output(json_mode="--json" in (sys.argv[1:] if argv is None else argv))
            output.fail(interrupted_error())
            return output.render()


def interrupted_error() -> GovernError:
    """E_INTERRUPTED (exit 130), saying whether the command's change had been written."""
    from govern.errors import GovernError
    from govern.runtime import interrupts

    what = "the change was already written" if interrupts.committed() else "nothing written"
    return GovernError("E_INTERRUPTED", f"interrupted; {what}")


def _run(argv: list[str] | None, plugins: tuple[tuple[str, object], ...], environ: Mapping[str, str]) -> int:
    from govern.runtime import interrupts

    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    if not plugins:  # a plugin given in-process could answer the seal hook itself
        from govern.cli.quick_verify import quick_verify

        answered = quick_verify(args, environ)
        if answered is not None:
            return answered
    import contextlib
    import io

    from govern.cli.output import Output
    from govern.errors import ExitCode, GovernError

    output = Output(
        json_mode="--json" in args,
        quiet=bool({"-q", "--quiet"} & set(args)),
        verbose=bool({"-v", "--verbose"} & set(args)) or environ.get("GOVERN_DEBUG") == "1",
    )
    if _asks_for_version(args):
        from govern.__about__ import __version__

        if output.json_mode:
            output.command = "version"
            output.emit({"version": __version__}, [])
            return output.render()
        print(f"govern {__version__}")
        return ExitCode.OK
    from typer import exceptions as typer_exceptions  # Exit and Abort live here since typer 0.26
    from typer._click import exceptions as click_exceptions  # typer vendors click

    from govern.cli.app import build_app

    # With --json, stdout belongs to the one JSON document: anything else written there while
    # the command runs (typer's --help text) is captured and put into that document.
    captured = io.StringIO()
    try:
        command = build_app(
            output, _workspace_option(args), "--strict-plugins" in args, plugins=plugins, environ=environ, only=built_in_command(args)
        )
        with contextlib.redirect_stdout(captured) if output.json_mode else contextlib.nullcontext():
            returned = command.main(args=args, prog_name="govern", standalone_mode=False)
        # In non-standalone mode an Exit (e.g. from --help) comes back as its exit code.
        if isinstance(returned, int) and not isinstance(returned, bool):
            output.exit_code = returned
        if interrupts.interrupted():
            raise KeyboardInterrupt  # typer turned it into a bare exit code 130
    except GovernError as error:
        output.fail(error)
        if output.verbose:
            _print_traceback()
    except typer_exceptions.Exit as done:
        output.exit_code = done.exit_code
    except typer_exceptions.Abort:
        output.fail(GovernError("E_USAGE", "aborted"))
    except click_exceptions.NoArgsIsHelpError:
        # Its message is the whole help text; an error stays one line.
        output.fail(GovernError("E_USAGE", "missing command (see 'govern --help')"))
    except click_exceptions.ClickException as usage:
        output.fail(GovernError("E_USAGE", usage.format_message()))
    except OSError as failure:
        # An I/O failure no command anticipated: still one line naming the path, never a
        # traceback (docs/errors.md, "How errors are shown"). Anticipated ones are GovernErrors with their own codes.
        if output.verbose:
            _print_traceback()
        output.fail(GovernError("E_IO", describe_os_error(failure)))
    except KeyboardInterrupt:
        interrupts.hold_interrupts()  # a second Ctrl-C must not cut the rendering short
        output.fail(interrupted_error())
    except Exception as crash:  # a bug: still one line, the traceback behind -v
        if output.verbose:
            _print_traceback()
        output.fail(GovernError("E_INTERNAL", f"internal error: {type(crash).__name__}: {crash} (run with -v for the traceback)"))
    interrupts.hold_interrupts()  # the outcome is decided: render it whole
    if captured.getvalue() and output.data is None:
        output.data = {"text": captured.getvalue()}
    return output.render()
