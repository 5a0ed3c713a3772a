"""A ``--path`` argument as people type it, turned into the path inside a run it means.

``delta show --path`` and ``diff --path`` (and any later command that asks for a path inside
a run) take what a user copies from a shell or a listing: ``./x``, ``x/``, ``a//b``, the path
of the file inside a run folder (``.codex/RUNS/<run>/x``), or an absolute path inside the
workspace. :func:`in_run_path` is the one place that turns all of them into the manifest form
(``x``: relative, POSIX, no ``.``/``..`` parts, no trailing ``/``, NFC), and refuses an
absolute path outside the workspace (``E_PATH_OUTSIDE``, exit 2) instead of silently
matching nothing.
"""

from __future__ import annotations

import os
import posixpath
import unicodedata
from pathlib import Path

from govern.errors import GovernError
from govern.format.paths import is_run_id, manifest_path_problem


def _workspace_relative(given: str, workspace_root: Path | None) -> str:
    """An absolute ``given`` as a path relative to the workspace; E_PATH_OUTSIDE if outside."""
    if workspace_root is None:
        raise GovernError("E_PATH_OUTSIDE", f"--path {given}: an absolute path needs a workspace to be inside of (none found)")
    # realpath on both sides, so a workspace reached through a symlink (/tmp on macOS) still matches.
    root = os.path.realpath(workspace_root)
    target = os.path.realpath(given)
    if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
        raise GovernError(
            "E_PATH_OUTSIDE",
            f"--path {given}: outside the workspace {root}; give a path inside a run (e.g. RUN_REGISTRY_v0_1.jsonl) "
            "or inside the workspace's runs root",
        )
    return Path(os.path.relpath(target, root)).as_posix()


def _strip_run_folder(relative: str, given: str, workspace_root: Path | None, runs_root: Path | None) -> str:
    """``relative`` without a leading ``<runs_root>/<run id>/`` (a path under a run folder)."""
    if workspace_root is None or runs_root is None:
        return relative
    try:
        runs = Path(os.path.relpath(os.path.realpath(runs_root), os.path.realpath(workspace_root))).as_posix()
    except ValueError:  # another drive (Windows): the runs root cannot prefix a workspace path
        return relative
    if runs == "." or runs.startswith("../"):
        return relative
    if relative != runs and not relative.startswith(runs + "/"):
        return relative
    rest = relative[len(runs) :].lstrip("/")
    run_id, _, inside = rest.partition("/")
    if not run_id or not is_run_id(run_id):
        raise GovernError("E_USAGE", f"--path {given}: in the runs root but not inside a run folder; give a path inside a run")
    if not inside:
        raise GovernError("E_USAGE", f"--path {given}: names the run folder {run_id} itself; give a path inside it")
    return inside


def in_run_path(given: str, *, workspace_root: Path | None = None, runs_root: Path | None = None) -> str:
    """The path inside a run that ``given`` names, in manifest form.

    Accepts ``x``, ``./x``, ``x/``, ``a//b``, ``a/./b``, a path under a run folder
    (``<runs_root>/<run id>/x``, relative to the workspace or absolute) and an absolute path
    inside the workspace (taken relative to it). Refuses, with one error naming ``given``: an
    absolute path outside the workspace (E_PATH_OUTSIDE, exit 2), a path that climbs out
    (``../x``), an empty one, and anything that cannot be a manifest path (E_USAGE).
    """
    text = given.strip()
    if not text:
        raise GovernError("E_USAGE", "--path: empty; give a file or folder inside a run")
    if os.path.isabs(text):
        text = _workspace_relative(text, workspace_root)
    # normpath folds './x', 'x/', 'a//b' and 'a/./b'; a leading '..' survives it and is refused.
    relative = unicodedata.normalize("NFC", posixpath.normpath(text.replace(os.sep, "/")))
    if relative == "." or relative == ".." or relative.startswith("../"):
        raise GovernError("E_USAGE", f"--path {given}: not a path inside a run (it names the top or climbs out with '..')")
    relative = _strip_run_folder(relative, given, workspace_root, runs_root)
    problem = manifest_path_problem(relative)
    if problem is not None:
        raise GovernError("E_USAGE", f"--path {given}: {problem}")
    return relative
