"""Globs over the paths of a delta record (docs/policies.md, "Globs"): pure, no I/O.

A glob is matched against the *whole* path, case-sensitively, segment by segment (``/``
separates segments): ``*`` is any characters inside one segment, ``?`` one character other
than ``/``, ``[abc]`` / ``[!abc]`` one character of (not of) a set, and ``**`` written as a
whole segment is zero or more whole segments (``reports/**`` matches ``reports/a.json`` and
``reports/x/y.json``; ``**/secret.json`` matches ``secret.json`` at any depth). The rule of
gitignore's ``**`` and of Python 3.13's ``PurePath.full_match`` — written here once, because
govern runs on 3.11 and :mod:`fnmatch`'s ``*`` crosses ``/``.
"""

from __future__ import annotations

import functools
import re

#: A bracket set: ``[`` optionally ``!``, optionally a leading ``]``, then anything up to ``]``.
_BRACKET_SET = re.compile(r"\[(!?)(\]?[^\]]*)\]")


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable path glob, or None when it is."""
    if not pattern:
        return "is empty (expected a glob over record paths, such as 'config/**')"
    if pattern.startswith("/"):
        return "starts with '/' (record paths are relative: write it without the leading '/')"
    if any(segment == ".." for segment in pattern.split("/")):
        return "holds a '..' segment (record paths never do)"
    if any("**" in segment and segment != "**" for segment in pattern.split("/")):
        return "uses '**' inside a segment (write '**' as a whole segment, such as 'a/**/b.json')"
    if any(not found.group(2) for found in _BRACKET_SET.finditer(pattern)):
        return "has an empty set '[]' (a set is written [abc] or [!abc])"
    leftover = _BRACKET_SET.sub("", pattern)
    if "[" in leftover or "]" in leftover:
        return "has an unbalanced '[' or ']' (a set is written [abc] or [!abc])"
    return None


def _segment_regex(segment: str) -> str:
    """The regular expression of one segment that is not ``**``."""
    parts: list[str] = []
    position = 0
    while position < len(segment):
        char = segment[position]
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[":
            found = _BRACKET_SET.match(segment, position)
            assert found is not None  # glob_problem refuses an unbalanced set
            negate, members = found.groups()
            # Ranges (a-z) stay ranges; only what is special inside a class is escaped.
            literal = members.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[").replace("]", "\\]")
            parts.append(f"[{'^/' if negate else ''}{literal}]")
            position = found.end()
            continue
        else:
            parts.append(re.escape(char))
        position += 1
    return "".join(parts)


@functools.lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The compiled whole-path regular expression of ``pattern`` (checked by :func:`glob_problem`)."""
    problem = glob_problem(pattern)
    if problem is not None:
        raise ValueError(f"glob {pattern!r} {problem}")
    regex = ""
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # Zero or more whole segments, each with its separator (none at the end).
            regex += "(?:.*)" if last else "(?:[^/]+/)*"
        else:
            regex += _segment_regex(segment) + ("" if last else "/")
    return re.compile(regex)


def matches_glob(pattern: str, path: str) -> bool:
    """True when ``path`` matches the glob ``pattern`` as a whole."""
    return compile_glob(pattern).fullmatch(path) is not None


def matching_paths(patterns: tuple[str, ...], paths: tuple[str, ...] | list[str]) -> list[str]:
    """The paths (in their order) that match at least one of ``patterns``."""
    compiled = [compile_glob(pattern) for pattern in patterns]
    return [path for path in paths if any(regex.fullmatch(path) for regex in compiled)]
