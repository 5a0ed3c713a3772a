"""BagIt (RFC 8493) bytes: manifest lines, the escapes of their paths, ``bagit.txt`` and
``bag-info.txt`` — read for the ``bagit`` registry kind, written by ``govern export --format
bagit``. Pure functions, no I/O.

A manifest path is kept exactly as the manifest writes it, but for the three escapes RFC 8493
§2.1.3 defines (``%0D`` CR, ``%0A`` LF, ``%25`` ``%``): anything else that looks
percent-encoded (``%7E``) is a literal part of the name, never URL-decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

#: The escapes of RFC 8493 §2.1.3, case-insensitive in the hex digits.
_ESCAPE = re.compile(r"%(0[dD]|0[aA]|25)")
_UNESCAPED = {"0d": "\r", "0a": "\n", "25": "%"}
#: A BagIt version this module writes.
BAGIT_VERSION = "1.0"
#: The payload folder of a bag.
PAYLOAD_DIR = "data"


def decode_manifest_path(text: str, escapes_percent: bool = True) -> str:
    """The file path a manifest line names: ``%0D``/``%0A`` (and ``%25`` when
    ``escapes_percent``: BagIt 1.0 and later, where the RFC defines it) decoded, nothing else.

    Decoding is one left-to-right pass, so ``%250A`` is the three characters ``%0A``."""
    if escapes_percent:
        return _ESCAPE.sub(lambda m: _UNESCAPED[m.group(1).lower()], text)
    return re.sub(r"%(0[dD]|0[aA])", lambda m: _UNESCAPED[m.group(1).lower()], text)


def encode_manifest_path(path: str) -> str:
    """``path`` as a BagIt 1.0 manifest writes it: ``%`` first, then CR and LF, escaped."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@attrs.frozen
class ManifestLines:
    """A manifest file read: its ``(path, digest)`` pairs in file order (digests lower-cased),
    and notes on notation a conforming manifest does not use (each naming its line)."""

    pairs: list[tuple[str, str]]
    notes: list[str]


def parse_manifest_lines(text: str, escapes_percent: bool = True) -> ManifestLines:
    """Read a manifest file's text (decoded in the bag's ``Tag-File-Character-Encoding``).
    A line is ``<digest><whitespace><path>``: the path is the rest of the line (spaces in it
    kept). A leading ``*`` (md5sum's binary-mode marker) and ``./`` are notation, not part of
    the name: they are dropped, with a note. Blank lines are skipped.

    Raises ValueError naming the line for a line that is not a digest and a path."""
    pairs: list[tuple[str, str]] = []
    notes: list[str] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9A-Fa-f]+)[ \t]+(.+)", line)
        if match is None:
            raise ValueError(f"line {number} is not '<digest> <path>': {line!r}")
        raw = match.group(2)
        if raw.startswith("*"):
            notes.append(f"line {number}: '*' (md5sum's binary-mode marker) before the path {raw[1:]!r}, dropped")
            raw = raw[1:]
        if raw.startswith("./"):
            notes.append(f"line {number}: './' before the path {raw[2:]!r}, dropped (RFC 8493 paths are relative to the bag)")
            raw = raw[2:]
        pairs.append((decode_manifest_path(raw, escapes_percent), match.group(1).lower()))
    return ManifestLines(pairs, notes)


def manifest_bytes(entries: Iterable[tuple[str, str]]) -> bytes:
    """A BagIt manifest: one ``<digest>  <encoded path>`` line per ``(path, digest)``, sorted
    by the path's UTF-8 bytes (so the same files give the same bytes)."""
    lines = sorted((encode_manifest_path(path).encode("utf-8"), digest.encode("ascii")) for path, digest in entries)
    return b"".join(digest + b"  " + path + b"\n" for path, digest in lines)


def bagit_txt() -> bytes:
    """The ``bagit.txt`` of a BagIt 1.0 bag in UTF-8."""
    return f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n".encode()


def bag_info_bytes(tags: Sequence[tuple[str, str]]) -> bytes:
    """``bag-info.txt`` from ``(name, value)`` pairs, in the order given."""
    return "".join(f"{name}: {value}\n" for name, value in tags).encode("utf-8")


def payload_oxum(sizes: Iterable[int]) -> str:
    """``Payload-Oxum``: ``<octets>.<files>`` of the payload."""
    sizes = list(sizes)
    return f"{sum(sizes)}.{len(sizes)}"


def bagit_txt_problem(data: bytes) -> str | None:
    """Why ``bagit.txt`` breaks RFC 8493 §2.2.2's tag syntax in a way bagit-python lets
    through, or None: a tag name followed by whitespace before its colon (``BagIt-Version :
    1.0``)."""
    for line in data.decode("utf-8", errors="replace").splitlines():
        name, colon, _value = line.partition(":")
        if colon and name != name.rstrip():
            return f"bagit.txt: whitespace before ':' in the tag {name.strip()!r} (RFC 8493 §2.2.2: 'Name: value')"
    return None


def first_tag_value(info: Mapping[str, object], name: str) -> str | None:
    """The first value of tag ``name`` in bag-info (bagit-python gives a list for a repeated
    tag), or None; tag names compare case-insensitively, as RFC 8493 §2.2.2 says."""
    for key, value in info.items():
        if key.lower() == name.lower():
            if isinstance(value, list):
                return str(value[0]) if value else None
            return str(value)
    return None
