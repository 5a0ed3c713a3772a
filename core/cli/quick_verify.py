"""``govern verify RUN_DIR…`` answered before the command line is built, when nothing but the
runs' own files can change the answer.

Starting govern — typer, the plugin host, the models — costs about ten times what verifying a
run of a few files does, so a plain ``govern verify`` of small, intact local runs is answered
by :func:`govern.seal.quick_check.intact_run` with the lines the full command prints, byte for
byte (:mod:`govern.cli.verify_lines`). The quick answer is taken only when

- the arguments are ``verify`` and folders, nothing else (no option: ``--json``, ``-q``, ``-C``,
  ``--all``… take the full command);
- no ``GOVERN_*`` variable is set (they choose plugins, tracing, workers, debugging;
  ``GOVERN_QUICK_VERIFY=0`` is the documented way to turn the quick answer off);
- stderr is not a terminal (the full command draws progress bars there);
- no installed distribution declares entry points of the ``govern`` group (a plugin could
  answer the seal hook itself), and the workspace's config, if any, plainly disables no plugin
  (``[plugins] disable`` naming a plugin is reported on every command; reading TOML costs
  more than the whole quick answer, so the config's text is recognised instead:
  :func:`disables_no_plugin`);
- every run passes the quick check.

Otherwise — a failure included — the full command runs, decides and explains, as if the quick
answer did not exist. ``tests/test_quick_verify.py`` holds both to the same output.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping


def quick_verify(args: list[str], environ: Mapping[str, str]) -> int | None:
    """The exit code, having printed the answer, when ``args`` (the command line, global
    options hoisted) asks to verify runs and the quick answer applies; else None, having
    printed nothing."""
    if len(args) < 2 or args[0] != "verify" or any(arg.startswith("-") or not arg for arg in args[1:]):
        return None
    if any(name.startswith("GOVERN_") for name in environ) or _is_terminal(sys.stderr):
        return None
    if not all(os.path.isdir(arg) for arg in args[1:]) or _plugins_configurable():
        return None
    from govern.cli.verify_lines import run_ok_line, runs_summary_line
    from govern.seal.quick_check import intact_run

    lines = []
    for arg in args[1:]:
        run_dir = os.path.abspath(arg)
        found = intact_run(run_dir)
        if found is None:
            return None
        root, files = found
        lines.append(run_ok_line(os.path.basename(run_dir), files, root))
    lines.append(runs_summary_line(len(lines), len(lines), 0, 0))
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    return 0


def _is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal (a stream without ``isatty`` is not)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _plugins_configurable() -> bool:
    """Whether plugins other than the built-ins could take part, or the workspace's config
    could disable one (:func:`govern.host.installed_plugins.may_declare_plugins`,
    :func:`disables_no_plugin`)."""
    from govern.config.root import CONFIG_NAME, nearest_workspace

    workspace = nearest_workspace(os.getcwd())
    if workspace is not None:
        try:
            with open(os.path.join(workspace, CONFIG_NAME), "rb") as config:
                if not disables_no_plugin(config.read()):
                    return True
        except OSError:
            return True
    from govern.host.installed_plugins import may_declare_plugins

    return may_declare_plugins()


_COMMENT_OR_BLANK = re.compile(rb"[ \t]*(?:#.*)?")
_PLUGINS_HEADER = re.compile(rb"[ \t]*\[plugins\][ \t]*(?:#.*)?")
_EMPTY_DISABLE = re.compile(rb"[ \t]*disable[ \t]*=[ \t]*\[[ \t]*\][ \t]*(?:#.*)?")
_TABLE_HEADER = re.compile(rb"[ \t]*\[")


def disables_no_plugin(config: bytes) -> bool:
    """True only when the TOML text ``config`` certainly sets no ``plugins.disable`` but an
    empty one (False is "cannot tell": the full command reads the config).

    Every line mentioning ``plugins`` must be a comment or the ``[plugins]`` header, and the
    lines of that table must be blank, comments or ``disable = []``: setting a plugin to
    disable in any TOML form (a table, a dotted key, an inline table, a quoted key, a
    multi-line array) writes a line that breaks one of these. A line inside a multi-line
    string can only make the answer False, never wrongly True: text in a string sets
    nothing. ``tests/test_quick_verify.py`` holds it to :mod:`tomllib`.
    """
    in_plugins_table = False
    for line in config.split(b"\n"):
        line = line.rstrip(b"\r")
        if _PLUGINS_HEADER.fullmatch(line):
            in_plugins_table = True
            continue
        if b"plugins" in line and not line.lstrip().startswith(b"#"):
            return False
        if _TABLE_HEADER.match(line):
            in_plugins_table = False
        elif in_plugins_table and not (_COMMENT_OR_BLANK.fullmatch(line) or _EMPTY_DISABLE.fullmatch(line)):
            return False
    return True
