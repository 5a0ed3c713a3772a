"""Reading local files: whole with a size cap, streamed in chunks, and JSON files strictly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govern.errors import GovernError
from govern.format.jsonio import DEFAULT_MAX_BYTES, StrictJSONError, loads_strict


def read_bytes_capped(path: Path, max_bytes: int) -> bytes:
    """Read a whole file, refusing one larger than ``max_bytes`` (E_JSON_INVALID)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise GovernError("E_JSON_INVALID", f"{path}: larger than the {max_bytes}-byte limit")
    return data


#: The chunk a streamed file is read in: large enough that system calls cost nothing, small
#: enough that a gigabyte-sized file never sits in memory.
CHUNK_BYTES = 8 * 1024 * 1024


def file_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The bytes of the local file ``path``, chunk by chunk; E_IO naming ``path`` when it
    cannot be opened or read (never through a symbolic link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        while True:
            try:
                chunk = handle.read(chunk_bytes)
            except OSError as exc:
                raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror or exc}") from exc
            if not chunk:
                return
            yield chunk


def load_json_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Read and strictly parse a JSON file; errors name the file and position (E_JSON_INVALID)."""
    data = read_bytes_capped(path, max_bytes)
    try:
        return loads_strict(data)
    except StrictJSONError as exc:
        where = exc.where()
        raise GovernError("E_JSON_INVALID", f"{path}{': ' + where if where else ''}: {exc.reason}") from None
