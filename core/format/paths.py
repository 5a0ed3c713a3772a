"""What a path inside a run may look like, and what a run folder may be called.

Manifest paths are relative, POSIX ``/``, NFC-normalised, and can never point outside the
run (docs/formats.md, "5. Paths"). :func:`manifest_path_problem` is the single judge, used both when sealing
(names found on disk) and when verifying (names read from a manifest that may be hostile).
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence

#: ``YYYY-MM-DD__HHMMSS__<slug>``, slug = ``[a-z0-9_]+``.
RUN_ID_PATTERN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})__(\d{2})(\d{2})(\d{2})__([a-z0-9_]+)$")
#: The two files that make the seal; never listed in a manifest.
SEAL_FILES = ("manifest.json", "MANIFEST.sha256")
#: A run's signed attestation (``govern attest``, docs/attestations.md). It signs the manifest's
#: files, so it cannot be one of them: like the seal it sits at the run's top, outside the manifest.
ATTESTATION_NAME = "attestation.dsse.json"
#: Every name a run may hold at its top that its manifest never lists — the seal files and the
#: attestation, nothing else: sealing leaves them out and verification does not call them unlisted.
UNLISTED_FILES = (*SEAL_FILES, ATTESTATION_NAME)
#: Longest manifest path, in UTF-8 bytes (Linux PATH_MAX).
MAX_PATH_BYTES = 4096
#: Longest single path component, in UTF-8 bytes (NAME_MAX on common filesystems).
MAX_NAME_BYTES = 255

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
# The common case, decided by one regex: ASCII parts that start with a letter, digit or '_'
# (so never '', '.', '..', '~…' or 'C:…') and fit NAME_MAX. Anything else takes the full checks.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=@,-]{0,254}(?:/[A-Za-z0-9_][A-Za-z0-9_.+=@,-]{0,254})*")
# The same rule as byte classes, for checking a whole manifest's paths at C speed
# (:func:`all_plain_paths`): a part may start with a "head" byte, continue with head or "tail"
# bytes, and is separated by '/'.
_HEAD_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_TAIL_BYTES = b".+=@,-"
# head -> 'h', tail -> 't', '/' and the '\n' joining paths -> '/'; other bytes stay as they are.
_PART_CLASSES = bytes.maketrans(_HEAD_BYTES + _TAIL_BYTES + b"\n", b"h" * len(_HEAD_BYTES) + b"t" * len(_TAIL_BYTES) + b"/")
_NOT_A_SEPARATOR = bytes.maketrans(b"t", b"h")
_TOO_LONG_PART = b"h" * (MAX_NAME_BYTES + 1)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.+=@,~ -]{1,255}")
# Newline-joined names that :func:`name_problem` passes by its plain-name regex (see
# :func:`all_plain_names` for a name that itself holds a newline).
_PLAIN_NAMES = re.compile(f"(?:{_PLAIN_NAME.pattern})(?:\\n(?:{_PLAIN_NAME.pattern}))*")
_FORBIDDEN_CHARS = ("\\", "\x00", "\r", "\n")


def is_run_id(name: str) -> bool:
    """True when ``name`` is a well-formed run id with a real calendar date and time."""
    match = RUN_ID_PATTERN.fullmatch(name)  # not .match: '$' accepts a trailing newline
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    # The calendar by arithmetic, not by datetime (whose import verify's quick answer would
    # pay): the same dates as datetime(year, month, day, …) accepts (a test proves it).
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = _DAYS_IN_MONTH[month - 1] + (month == 2 and leap) if 1 <= month <= 12 else 0
    return year >= 1 and 1 <= day <= days and hour < 24 and minute < 60 and second < 60


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def all_plain_paths(paths: Sequence[str]) -> bool:
    """True when every path is a plain one (the regex fast path of :func:`manifest_path_problem`)."""
    return plain_paths_joined(paths) is not None


def plain_paths_joined(paths: Sequence[str]) -> bytes | None:
    """The paths joined by ``\\n``, as ASCII bytes, when every one is plain
    (:func:`all_plain_paths`), else None.

    Decided by a few C-speed passes over the joined text instead of a regex per path, which is
    what makes a million-entry manifest cheap: the bytes are mapped to classes (part head,
    part tail, separator) and searched for what the rule forbids — a part not starting with a
    head byte (``/t``), an empty part (``//``), a part longer than :data:`MAX_NAME_BYTES`.
    ``tests/test_bulk_checks.py`` proves it agrees with the regex.
    """
    try:
        joined = "\n".join(paths)
    except TypeError:  # an item that is not a string
        return None
    if not paths:
        return b""
    if not joined or not joined.isascii():
        return None
    data = joined.encode("ascii")
    # Exactly one newline per separator, so no path held one of its own.
    if data.count(b"\n") != len(paths) - 1 or data.translate(None, _HEAD_BYTES + _TAIL_BYTES + b"/\n"):
        return None
    # Every part starts with a head byte: at the start of the text and after every separator.
    # An empty part or path, or a trailing '/', shows as '//' or as a separator at either end.
    classes = data.translate(_PART_CLASSES)
    if classes.startswith((b"t", b"/")) or classes.endswith(b"/") or b"/t" in classes or b"//" in classes:
        return None
    longest = max(map(len, paths))
    if longest > MAX_NAME_BYTES and (longest > MAX_PATH_BYTES or _TOO_LONG_PART in classes.translate(_NOT_A_SEPARATOR)):
        return None  # (a part can be no longer than its path)
    return data


def file_directory_conflicts(paths: Iterable[str]) -> list[str]:
    """Paths that are listed as a file and used as a folder by another path (``a`` beside
    ``a/b``), sorted; ``paths`` in any order."""
    paths = set(paths)
    # Every folder any path lies in; parents are shared by many files, so each distinct
    # folder's ancestors are walked once.
    directories: set[str] = set()
    for parent in {path.rpartition("/")[0] for path in paths}:
        while parent and parent not in directories:
            directories.add(parent)
            parent = parent.rpartition("/")[0]
    return sorted(paths & directories)


def sorted_file_directory_conflicts(paths: Sequence[str]) -> list[str]:
    """:func:`file_directory_conflicts` of paths in strictly ascending order, without building
    every folder.

    A path ``p`` used as a folder by a later path ``p/x`` is a prefix of its own successor
    (everything sorting between ``p`` and ``p/x`` starts with ``p``), so only paths whose
    successor starts with them are candidates — one C-speed pass finds them, and they are
    few (``README`` before ``README.md``) — and each is settled by a bisection for ``p/``.
    """
    conflicts = []
    for path in itertools.compress(paths, map(str.startswith, itertools.islice(paths, 1, None), paths)):
        folder = path + "/"
        index = bisect.bisect_left(paths, folder)
        if index < len(paths) and paths[index].startswith(folder):
            conflicts.append(path)
    return conflicts


def all_plain_names(names: list[str]) -> bool:
    """True when :func:`name_problem` passes every name by its plain-name regex
    (so each is ASCII) — decided by one regex over all of them."""
    joined = "\n".join(names)
    # Exactly one newline per separator: a name holding one must not pass as two plain names.
    return joined.isascii() and joined.count("\n") == len(names) - 1 and _PLAIN_NAMES.fullmatch(joined) is not None


def name_problem(name: str) -> str | None:
    """Why one file name found on disk cannot be sealed, or None if it can."""
    if _PLAIN_NAME.fullmatch(name):
        return None
    for char in _FORBIDDEN_CHARS:
        if char in name:
            return f"name contains {char!r}"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not valid UTF-8"
    if len(unicodedata.normalize("NFC", name).encode("utf-8")) > MAX_NAME_BYTES:
        return f"name longer than {MAX_NAME_BYTES} bytes"
    return None


def manifest_path_problem(path: object) -> str | None:
    """Why ``path`` is not an acceptable manifest path, or None if it is."""
    if not isinstance(path, str):
        return "path is not a string"
    if len(path) <= MAX_PATH_BYTES and _PLAIN_PATH.fullmatch(path):
        return None
    if path == "":
        return "path is empty"
    for char in _FORBIDDEN_CHARS:
        if char in path:
            return f"path contains {char!r}"
    if path.startswith("/"):
        return "path is absolute"
    if _WINDOWS_DRIVE.match(path):
        return "path is a Windows drive path"
    if path.startswith("~"):
        return "path starts with '~' (home-directory form)"
    if path.endswith("/"):
        return "path ends with '/'"
    parts = path.split("/")
    if any(part == "" for part in parts):
        return "path has an empty part ('//')"
    if any(part == "." for part in parts):
        return "path has a '.' part"
    if any(part == ".." for part in parts):
        return "path has a '..' part"
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        return "path is not valid UTF-8"
    if len(encoded) > MAX_PATH_BYTES:
        return f"path longer than {MAX_PATH_BYTES} bytes"
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in parts):
        return f"path has a part longer than {MAX_NAME_BYTES} bytes"
    if unicodedata.normalize("NFC", path) != path:
        return "path is not NFC-normalised"
    return None
