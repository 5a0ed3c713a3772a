"""Which runs are members of a ``collection`` registry: its ``pattern`` over run ids (docs/registry-kinds.md (collection)).

A pattern is a shell-style glob matched against the *whole* run id, case-sensitively
(``fnmatch.fnmatchcase``): ``*`` any characters, ``?`` one, ``[…]`` one of a set, ``[!…]``
one not in it. A glob rather than a regex: run ids are names people type patterns for
(``*__eval_*``), and a glob cannot be slow on any input. Pure functions, no I/O.
"""

from __future__ import annotations

import fnmatch
import re

#: What a pattern may hold: the characters of a run id and the glob's own (``* ? [ ] !``).
_PATTERN_CHARACTERS = re.compile(r"[A-Za-z0-9_\-*?\[\]!]+")
#: A bracket set, once its contents are taken out: what is left must hold no bracket.
_BRACKET_SET = re.compile(r"\[!?\]?[^\]]*\]")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot select run ids, or None when it can."""
    if not pattern:
        return "is empty (expected a glob over run ids, such as '*__eval_*')"
    if not _PATTERN_CHARACTERS.fullmatch(pattern):
        return "may hold only the characters of a run id and the glob characters * ? [ ] !"
    if "[" in _BRACKET_SET.sub("", pattern) or "]" in _BRACKET_SET.sub("", pattern):
        return "has an unbalanced '[' or ']' (a set is written [abc] or [!abc])"
    return None


def matches(pattern: str, run_id: str) -> bool:
    """True when ``run_id`` matches the glob ``pattern`` as a whole."""
    return fnmatch.fnmatchcase(run_id, pattern)


def run_slug(run_id: str) -> str:
    """The slug of a run id (``YYYY-MM-DD__HHMMSS__<slug>`` → ``<slug>``)."""
    return run_id.split("__", 2)[-1]
