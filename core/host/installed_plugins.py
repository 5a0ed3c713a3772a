"""Whether any installed distribution may declare govern plugins — answered from the
``entry_points.txt`` files on ``sys.path``, where :mod:`importlib.metadata` finds them, without
importing it: importing it and scanning costs about 25 ms on every command, for nothing on
the many installations that have no plugin beyond the built-ins.

The answer is conservative: False only when certainly no distribution declares entry points
of the ``govern`` group; anything this does not look into (an archive on ``sys.path``, a
distribution finder other than the standard one) answers True, and
:mod:`importlib.metadata` then decides. ``tests/test_installed_plugins.py`` holds it to
:mod:`importlib.metadata`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from importlib.machinery import PathFinder

from govern.__about__ import PROJECT_NAME

#: An entry-point group header naming govern's group in an ``entry_points.txt``.
_GOVERN_GROUP = re.compile(rb"^[ \t]*\[[ \t]*" + re.escape(PROJECT_NAME.encode()) + rb"[ \t]*\]", re.MULTILINE)
_METADATA_FOLDERS = (".dist-info", ".egg-info")


def may_declare_plugins(path: Sequence[str] | None = None, meta_path: Sequence[object] | None = None) -> bool:
    """False only when no distribution on ``path`` (default ``sys.path``) declares entry
    points of the ``govern`` group and no finder of ``meta_path`` (default ``sys.meta_path``)
    but the standard path finder finds distributions."""
    finders = sys.meta_path if meta_path is None else meta_path
    if any(hasattr(finder, "find_distributions") and finder is not PathFinder for finder in finders):
        return True
    return any(declares_govern_entry_points(entry or ".") for entry in (sys.path if path is None else path))


def declares_govern_entry_points(path_entry: str) -> bool:
    """Whether a distribution in the ``sys.path`` entry ``path_entry`` declares entry points
    of the ``govern`` group (a ``*.dist-info`` or ``*.egg-info`` folder, in any case, holding
    an ``entry_points.txt`` with a ``[govern]`` section); True for an entry that exists and is
    not a folder (an archive), which this does not look into."""
    try:
        names = os.listdir(path_entry)
    except NotADirectoryError:
        return True
    except OSError:
        return False  # absent: sys.path lists folders that may not exist
    for name in names:
        if name.lower().endswith(_METADATA_FOLDERS):
            try:
                with open(os.path.join(path_entry, name, "entry_points.txt"), "rb") as declared:
                    if _GOVERN_GROUP.search(declared.read()):
                        return True
            except OSError:
                continue
    return False
