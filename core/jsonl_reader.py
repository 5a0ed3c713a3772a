"""Reading JSON Lines strictly — and fast when the lines are canonical.

Every line of a JSONL file holds one strict JSON value (:func:`govern.jsonio.loads_strict`) and
ends with a single ``\\n``. A blank line, a CRLF ending and a last line without its newline (a
torn write) are problems of that line.

Speed without loosening: a line that is already canonical (what govern writes) is parsed with
orjson when it is installed, and accepted only if re-serialising the value gives back the
very same bytes. That proves the line had no duplicate key (one would have been dropped), no
NaN or out-of-range number, no byte-order mark, no invalid UTF-8 — nothing the strict parser
refuses — and the value is the one ``loads_strict`` returns. Nesting is bounded by counting
brackets. Every other line goes through ``loads_strict`` itself.

Files are read in chunks, optionally one byte range at a time so that several processes can
share a large file (:func:`split_ranges`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from govern.jsonio import MAX_DEPTH, StrictJSONError, loads_strict

try:  # optional accelerator; strictness never depends on it
    import orjson
except ImportError:  # pragma: no cover - exercised only where orjson is not installed
    orjson = None

#: Returned by a fast parser for a line it cannot vouch for (the strict parser decides).
NOT_CANONICAL = object()
_READ_CHUNK = 8 << 20


def fast_parser() -> Callable[[bytes], Any] | None:
    """A parser for canonical lines returning :data:`NOT_CANONICAL` for any other line, or
    None when orjson is not installed."""
    if orjson is None:
        return None
    loads, dumps, sort_keys, decode_error = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS, orjson.JSONDecodeError

    def parse_canonical(line: bytes) -> Any:
        try:
            value = loads(line)
        except decode_error:
            return NOT_CANONICAL
        try:
            same = dumps(value, option=sort_keys) == line
        except TypeError:  # orjson.JSONEncodeError, e.g. an integer beyond 64 bits
            return NOT_CANONICAL
        # orjson allows deeper nesting than we do; the bracket count bounds the depth.
        if not same or line.count(b"{") + line.count(b"[") > MAX_DEPTH:
            return NOT_CANONICAL
        return value

    return parse_canonical


def parse_line(line: bytes) -> Any:
    """One line (without its ``\\n``), strictly: StrictJSONError for a blank line, a CRLF
    ending, or anything :func:`loads_strict` refuses."""
    if not line or line.isspace():
        raise StrictJSONError("blank line (each line of a JSONL file holds one JSON value)")
    if line.endswith(b"\r"):
        raise StrictJSONError("CRLF line ending (lines end with LF only)")
    return loads_strict(line)


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


def read_lines(path: Path, start: int = 0, end: int | None = None) -> Iterator[tuple[list[bytes], bytes | None]]:
    """The complete lines of ``path[start:end]`` in batches (without their ``\\n``); the last
    batch also carries the bytes after the final newline (a torn last line), else None."""
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = (end if end is not None else os.fstat(handle.fileno()).st_size) - start
        pending = b""
        while remaining > 0:
            chunk = handle.read(min(_READ_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            data = pending + chunk if pending else chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            pending = data[cut + 1 :]
            yield data[:cut].split(b"\n"), None
        if pending:
            yield [], pending
