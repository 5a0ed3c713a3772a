"""The seal format's plain rules: its names and constants, and the bulk checks that read a
manifest as govern writes it — importable without the models (no attrs), so that
``govern verify``'s quick check (:mod:`govern.seal.quick_check`) and
:func:`govern.format.manifest.parse_manifest` share one rule (docs/formats.md, "3. `manifest.json`").
"""

from __future__ import annotations

import collections
import itertools
import operator
import re
from collections.abc import Sequence

from govern.format.paths import plain_paths_joined

MANIFEST_NAME = "manifest.json"
SEAL_NAME = "MANIFEST.sha256"
MANIFEST_VERSION = "0.1"
ALGORITHM = "sha256"
#: Largest manifest.json read (a million entries is ~150 MB).
MAX_MANIFEST_BYTES = 2 << 30

MANIFEST_KEYS = frozenset({"manifest_version", "run_id", "algorithm", "files"})
ENTRY_KEYS = frozenset({"path", "sha256", "bytes"})
# \Z, not $: "$" also matches before a final newline, which would let "<hex>\n" through.
HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
SEAL_LINE_PATTERN = re.compile(rb"^([0-9a-f]{64})  manifest\.json\n\Z")


# Not `from typing import TYPE_CHECKING, NamedTuple`: importing typing costs ~2 ms that
# verify's quick answer does not otherwise pay; type checkers see the typed class.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple

    class Columns(NamedTuple):
        """A manifest's entries as three parallel tuples."""

        paths: tuple[str, ...]
        digests: tuple[str, ...]
        sizes: tuple[int, ...]

else:
    Columns = collections.namedtuple("Columns", ("paths", "digests", "sizes"))
    Columns.__doc__ = "A manifest's entries as three parallel tuples."


_PATH_OF, _DIGEST_OF, _SIZE_OF = (operator.itemgetter(key) for key in ("path", "sha256", "bytes"))
_HEX_BYTES = b"0123456789abcdef"


def _hex64_joined(digests: Sequence[object]) -> bytes | None:
    """The digests joined by ``\\n``, as ASCII bytes, when every one is 64 lowercase hex
    characters, else None (C-speed passes over the joined text, no regex per digest)."""
    try:
        joined = "\n".join(digests)  # type: ignore[arg-type]
    except TypeError:  # an item that is not a string
        return None
    if not set(map(len, digests)) <= {64} or not joined.isascii() or joined.count("\n") != max(len(digests) - 1, 0):  # type: ignore[arg-type]
        return None
    data = joined.encode("ascii")
    return None if data.translate(None, _HEX_BYTES + b"\n") else data


def columns_if_plainly_valid(raw_files: list) -> tuple[Columns, tuple[bytes, bytes]] | None:
    """All entries as columns, checked at C speed, when every one is plainly valid, with the
    paths and the digests each joined by ``\\n`` as ASCII bytes (by-products of the checks);
    else None (and
    :func:`govern.format.manifest.parse_manifest` explains entry by entry).

    Plainly valid: exactly the three keys; plain paths (:func:`govern.format.paths.plain_paths_joined`)
    in strictly ascending order (so also unique); 64 lowercase hex digests; sizes that are
    integers (not booleans) >= 0. Each check is a pass of C code over a whole column.
    """
    if not set(map(type, raw_files)) <= {dict} or not set(map(len, raw_files)) <= {3}:
        return None
    try:  # three keys, each of them present: exactly the three
        paths, digests, sizes = (list(map(get, raw_files)) for get in (_PATH_OF, _DIGEST_OF, _SIZE_OF))
    except KeyError:
        return None
    if not set(map(type, sizes)) <= {int} or min(sizes, default=0) < 0:
        return None
    joined_digests = _hex64_joined(digests)
    joined_paths = plain_paths_joined(paths)
    if joined_digests is None or joined_paths is None or any(map(operator.ge, paths, itertools.islice(paths, 1, None))):
        return None
    return Columns(tuple(paths), tuple(digests), tuple(sizes)), (joined_paths, joined_digests)


def as_govern_writes_it(doc: dict, data: bytes, run_id: str, entries: int) -> bool:
    """True when ``doc`` — what orjson read from ``data``, every entry plainly valid — is also
    exactly what the strict parser reads, with nothing to report at the top level.

    orjson is lenient in two ways the strict parser is not: it keeps the last of duplicate
    keys, and reads integers beyond 64 bits as floats (which a plainly valid entry cannot
    hold: its size is an int). With no backslash in the text, every string is literal, and
    the only ':' outside the run id is each key's separator; so a text holding exactly as
    many ':' as the value has keys gives no key twice. (NaN, a byte-order mark, invalid
    UTF-8, a number beyond a double: orjson refuses those itself.)
    """
    return (
        doc.keys() == MANIFEST_KEYS
        and doc["manifest_version"] == MANIFEST_VERSION
        and doc["algorithm"] == ALGORITHM
        and doc["run_id"] == run_id
        and b"\\" not in data
        and data.count(b":") == len(MANIFEST_KEYS) + len(ENTRY_KEYS) * entries + run_id.count(":")
    )
