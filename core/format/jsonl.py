"""Reading JSON Lines strictly — and fast when the lines are canonical.

Every line of a JSONL file holds one strict JSON value (:func:`govern.format.jsonio.loads_strict`) and
ends with a single ``\\n``. A blank line, a CRLF ending, a byte-order mark and a last line
without its newline (a torn write) are problems of that line: :func:`parse_jsonl` is the one
reader every caller uses (docs/formats.md, "Reading JSONL").

Speed without loosening: a line that is already canonical (what govern writes) is parsed with
orjson, and accepted only if re-serialising the value gives back the
very same bytes. That proves the line had no duplicate key (one would have been dropped), no
NaN or out-of-range number, no byte-order mark, no invalid UTF-8 — nothing the strict parser
refuses — and the value is the one ``loads_strict`` returns. Nesting is bounded by orjson's
serialiser, which refuses anything deeper than :data:`~govern.format.jsonio.MAX_DEPTH` (checked once
at import; with an orjson that does not, by counting brackets). Every other line goes through
``loads_strict`` itself.

Most lines of a large file are canonical, so :func:`canonical_batch_parser` checks a whole
batch of lines at once: one orjson parse per line, then *one* re-serialisation of all the
values compared with the lines joined by commas. A batch it cannot vouch for is handed back
whole, and the caller takes it line by line — that slow path is what explains a bad line.

Files are read in chunks, optionally one byte range at a time so that several processes can
share a large file (:func:`split_ranges`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from govern.format.jsonio import MAX_DEPTH, StrictJSONError, loads_strict

#: Returned by a fast parser for a line it cannot vouch for (the strict parser decides).
NOT_CANONICAL = object()
_READ_CHUNK = 8 << 20


def _serialiser_bounds_depth() -> bool:
    """Whether orjson refuses to serialise nesting deeper than :data:`MAX_DEPTH` (it stops at
    254 levels today). Then a line that re-serialises is never too deep for the strict parser,
    and counting its brackets is wasted time (0.7 µs on a 650-byte line)."""
    deep: list = []
    for _ in range(MAX_DEPTH):
        deep = [deep]  # MAX_DEPTH + 1 levels
    try:
        orjson.dumps(deep)
    except orjson.JSONEncodeError:
        return True
    return False


_DEPTH_BOUNDED = _serialiser_bounds_depth()


def _too_deep(line: bytes) -> bool:
    """True when brackets alone could nest ``line`` beyond :data:`MAX_DEPTH`."""
    return line.count(b"{") + line.count(b"[") > MAX_DEPTH


def fast_parser() -> Callable[[bytes], Any]:
    """A parser for canonical lines returning :data:`NOT_CANONICAL` for any other line."""
    loads, dumps, sort_keys, decode_error = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS, orjson.JSONDecodeError
    count_brackets = not _DEPTH_BOUNDED

    def parse_canonical(line: bytes) -> Any:
        try:
            value = loads(line)
        except decode_error:
            return NOT_CANONICAL
        try:
            same = dumps(value, option=sort_keys) == line
        except TypeError:  # orjson.JSONEncodeError, e.g. an integer beyond 64 bits
            return NOT_CANONICAL
        if not same or (count_brackets and _too_deep(line)):
            return NOT_CANONICAL
        return value

    return parse_canonical


def canonical_batch_parser() -> Callable[[list[bytes]], list[Any] | None]:
    """``parse_batch(lines) -> values``, each the value the :func:`fast_parser` gives its line,
    or None when the batch cannot vouch for every line (the caller then takes them one by one).

    Each line is parsed on its own, so a line holds exactly one value, and a JSON value never
    ends in the middle of another; hence ``[v1,v2,…]`` re-serialised equal to ``[line1,line2,…]``
    means each value re-serialises to its own line, byte for byte. The check costs one
    ``dumps`` and one comparison per batch instead of one per line.
    """
    loads, dumps, sort_keys = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS
    refused = (orjson.JSONDecodeError, orjson.JSONEncodeError)
    count_brackets = not _DEPTH_BOUNDED

    def parse_batch(lines: list[bytes]) -> list[Any] | None:
        try:
            values = list(map(loads, lines))
            again = dumps(values, option=sort_keys)
        except refused:  # a line orjson cannot parse, or a value it cannot write back (a huge integer)
            return None
        if again != b"[" + b",".join(lines) + b"]":
            return None
        if count_brackets and any(map(_too_deep, lines)):
            return None
        return values

    return parse_batch


def batches(lines: list[bytes], size: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(index of the first line, lines)`` for consecutive batches of at most ``size`` lines."""
    for first in range(0, len(lines), size):
        yield first, lines[first : first + size]


#: Why a JSONL file's last line without a newline is refused (every reader says the same).
TORN_LAST_LINE = "the last line has no newline (a torn write?)"


class TornLineError(StrictJSONError):
    """The last line of a JSONL file has no newline: a torn write. ``line`` is its number.

    A reader refuses it like any bad line; ``govern repair --log`` alone treats it as the
    tail it may cut (docs/delta-log.md, "Retention and recovery")."""


def parse_line(line: bytes) -> Any:
    """One line (without its ``\\n``), strictly: StrictJSONError for a blank line, a CRLF
    ending, or anything :func:`loads_strict` refuses (a byte-order mark included)."""
    if not line or line.isspace():
        raise StrictJSONError("blank line (each line of a JSONL file holds one JSON value)")
    if line.endswith(b"\r"):
        raise StrictJSONError("CRLF line ending (lines end with LF only)")
    return loads_strict(line)


def complete_length(data: bytes) -> int:
    """How many bytes of ``data`` are complete lines (up to and with its last ``\\n``); what
    follows is a torn last line."""
    return data.rfind(b"\n") + 1


def split_lines(data: bytes) -> tuple[list[bytes], bytes | None]:
    """The complete lines of ``data`` without their ``\\n``, and the bytes after the last
    newline (a torn last line), or None when ``data`` ends with a complete line."""
    end = complete_length(data)
    lines = data[: end - 1].split(b"\n") if end else []
    return lines, (data[end:] or None)


def parse_jsonl(data: bytes) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each line of a JSONL file, strictly, in order: the one
    reading rule every caller shares (:func:`parse_line` for each line; a last line without
    its newline is :class:`TornLineError`). A bad line raises :class:`StrictJSONError` whose
    ``line`` is its 1-based number in the file and ``column`` the column within it."""
    lines, torn = split_lines(data)
    for number, line in enumerate(lines, start=1):
        try:
            value = parse_line(line)
        except StrictJSONError as exc:
            raise StrictJSONError(exc.reason, number, exc.column) from None
        yield number, value
    if torn is not None:
        raise TornLineError(TORN_LAST_LINE, len(lines) + 1)


def last_line(data: bytes) -> bytes | None:
    """The last complete line of ``data`` (without its ``\\n``), None when there is none —
    without splitting the rest of a large file."""
    end = complete_length(data)
    if not end:
        return None
    return data[data.rfind(b"\n", 0, end - 1) + 1 : end - 1]


def split_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """``parts`` (or fewer) byte ranges covering the file, each starting at a line start."""
    size = path.stat().st_size
    starts = [0]
    with open(path, "rb") as handle:
        for index in range(1, parts):
            handle.seek(max(size * index // parts, starts[-1]))
            handle.readline()  # finish the line the cut fell in
            position = handle.tell()
            if position >= size:
                break
            if position > starts[-1]:
                starts.append(position)
    return list(zip(starts, [*starts[1:], size]))


def lines_between(data: bytes, start: int, end: int) -> Iterator[list[bytes]]:
    """The lines of ``data[start:end]`` (which ends with ``\\n``) without their ``\\n``, a few
    megabytes at a time, so that only one chunk's worth of line objects exists at once."""
    while start < end:
        cut = data.rfind(b"\n", start, min(start + _READ_CHUNK, end)) + 1
        if cut <= start:  # one line longer than a chunk
            cut = data.find(b"\n", start, end) + 1
        yield data[start : cut - 1].split(b"\n")
        start = cut


def read_lines(
    path: Path, start: int = 0, end: int | None = None, *, chunk_bytes: int = _READ_CHUNK
) -> Iterator[tuple[list[bytes], bytes | None]]:
    """The complete lines of ``path[start:end]`` in batches (without their ``\\n``); the last
    batch also carries the bytes after the final newline (a torn last line), else None.

    Each chunk read is split as it is, its last piece held back for the next: no copy of a
    chunk is made (joining the held-back piece to the next chunk's first line costs one
    line), which is a third of the reading time of a large log."""
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = (end if end is not None else os.fstat(handle.fileno()).st_size) - start
        pending = b""
        while remaining > 0:
            chunk = handle.read(min(chunk_bytes, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            lines = chunk.split(b"\n")
            if pending:
                lines[0] = pending + lines[0]
            pending = lines.pop()  # the bytes after the chunk's last newline: not a line yet
            if lines:
                yield lines, None
        if pending:
            yield [], pending
