"""What a path inside a run may look like, and what a run folder may be called.

Manifest paths are relative, POSIX ``/``, NFC-normalised, and can never point outside the
run (DESIGN §4). :func:`manifest_path_problem` is the single judge, used both when sealing
(names found on disk) and when verifying (names read from a manifest that may be hostile).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

#: ``YYYY-MM-DD__HHMMSS__<slug>``, slug = ``[a-z0-9_]+``.
RUN_ID_PATTERN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})__(\d{2})(\d{2})(\d{2})__([a-z0-9_]+)$")
#: The two files that make the seal; never listed in a manifest.
SEAL_FILES = ("manifest.json", "MANIFEST.sha256")
#: Longest manifest path, in UTF-8 bytes (Linux PATH_MAX).
MAX_PATH_BYTES = 4096
#: Longest single path component, in UTF-8 bytes (NAME_MAX on common filesystems).
MAX_NAME_BYTES = 255

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
# The common case, decided by one regex: ASCII parts that start with a letter, digit or '_'
# (so never '', '.', '..', '~…' or 'C:…') and fit NAME_MAX. Anything else takes the full checks.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+=@,-]{0,254}(?:/[A-Za-z0-9_][A-Za-z0-9_.+=@,-]{0,254})*")
_PLAIN_PATHS = re.compile(f"{_PLAIN_PATH.pattern}(?:\\n{_PLAIN_PATH.pattern})*")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.+=@,~ -]{1,255}")
_FORBIDDEN_CHARS = ("\\", "\x00", "\r", "\n")


def is_run_id(name: str) -> bool:
    """True when ``name`` is a well-formed run id with a real calendar date and time."""
    match = RUN_ID_PATTERN.fullmatch(name)  # not .match: '$' accepts a trailing newline
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def all_plain_paths(paths: list[str]) -> bool:
    """True when every path is a plain one (the regex fast path of :func:`manifest_path_problem`)
    — checked by one regex over all of them, which is what makes a million-entry manifest cheap."""
    if not all(type(path) is str and len(path) <= MAX_PATH_BYTES for path in paths):
        return False
    joined = "\n".join(paths)
    # Exactly one newline per separator, so no path of its own held one (which could
    # otherwise pass as two plain paths).
    if joined.count("\n") != max(len(paths) - 1, 0):
        return False
    return not paths or _PLAIN_PATHS.fullmatch(joined) is not None


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
