"""Canonical JSON output and strict JSON input.

Output (docs/formats.md, "6. Canonical JSON"): UTF-8, sorted keys, 2-space indent, trailing newline; JSONL lines are
compact sorted-key objects. Same value → same bytes, whatever the dict insertion order.

Input is strict because evidence must not be ambiguous: duplicate keys (which one wins?),
NaN/Infinity (not JSON), floats that overflow to infinity, integers too long to convert, a
byte-order mark, invalid UTF-8, lone surrogates, nesting beyond :data:`MAX_DEPTH` and files
beyond a size cap are all refused with the file and, where known, the line and column.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

#: Deepest nesting of arrays/objects accepted on input.
MAX_DEPTH = 256
#: Largest JSON document read by :func:`load_json_file` unless the caller says otherwise.
DEFAULT_MAX_BYTES = 1 << 30

_BOM = b"\xef\xbb\xbf"


def dump_canonical(value: Any, *, floats: bool = True) -> bytes:
    """Serialise ``value`` as canonical JSON bytes (sorted keys, indent 2, final newline).

    ``floats=False`` promises the value holds no floats, letting orjson write it (a manifest
    of a million entries in milliseconds rather than seconds). orjson's bytes equal the
    standard library's for every other JSON value (a test proves it); only some floats are
    spelt differently (``1e-7`` against ``1e-07``), so a value that may hold floats takes
    the standard library's encoder.
    """
    if not floats:
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            pass  # e.g. an integer beyond 64 bits: the standard library writes it exactly
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def dump_jsonl_line(value: Any, *, floats: bool = True) -> bytes:
    """Serialise ``value`` as one canonical JSONL line (compact, sorted keys, ``\\n``).

    ``floats=False`` promises the value holds no floats, letting orjson write it, as in
    :func:`dump_canonical` (a bootstrap record listing a million paths in milliseconds).
    """
    if not floats:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            pass  # e.g. an integer beyond 64 bits: the standard library writes it exactly
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


class StrictJSONError(ValueError):
    """A strict-parsing failure; ``line``/``column`` are 1-based when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column

    def where(self) -> str:
        """``line L, column C`` (or only the line), or empty when the position is unknown."""
        if self.line is None:
            return ""
        if self.column is None:
            return f"line {self.line}"
        return f"line {self.line}, column {self.column}"


def _reject_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise StrictJSONError(f"number {text[:40]} is out of range")
    return value


def _checked_int(text: str) -> int:
    # CPython refuses int() of > 4300 digits with a ValueError; make it a clear message.
    if len(text) > 1000:
        raise StrictJSONError(f"integer with {len(text)} digits is out of range")
    return int(text)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise StrictJSONError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _reject_surrogates(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StrictJSONError("string holds a lone surrogate (not valid Unicode)") from None


def _check_depth(value: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` (walks containers only)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_DEPTH:
            raise StrictJSONError(f"nesting deeper than {MAX_DEPTH}")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates in string keys and values."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _reject_surrogates(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


#: A surrogate can only enter decoded text through a ``\uD800``–``\uDFFF`` escape.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


#: In canonical (2-space indented) text, a container nested :data:`MAX_DEPTH` deep starts a
#: line with this much indentation; its absence bounds the depth without walking the value.
_TOO_DEEP_INDENT = b"\n" + b" " * (2 * MAX_DEPTH)


def canonical_value(data: bytes) -> Any | None:
    """The value of ``data`` if it is exactly canonical JSON (as govern writes it), else None.

    The fast path for the documents govern reads most (manifests of a million entries):
    orjson parses, and re-serialising must give back the very same bytes — which rules out
    duplicate keys (one would vanish), NaN, non-canonical numbers, escapes or spacing — and no
    line may be indented as deep as :data:`MAX_DEPTH`. Anything else returns None and goes
    to the strict parser, which explains what is wrong.
    """
    value = lenient_value(data)
    return value if value is not None and is_canonical(value, data) else None


def lenient_value(data: bytes) -> Any | None:
    """What orjson makes of ``data``, or None when it refuses it.

    Not strict: orjson keeps the last of duplicate keys and reads integers beyond 64 bits as
    floats. A caller accepts the value only once it has ruled those out — by
    :func:`is_canonical`, or by checks of its own (a manifest's, in :mod:`govern.format.manifest`);
    otherwise :func:`parse_strict` decides. (JSON ``null`` also gives None: it is never a
    document govern reads.)
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def is_canonical(value: Any, data: bytes) -> bool:
    """True when ``data`` is exactly the canonical JSON of ``value`` (what orjson writes back)
    and no line of it is indented as deep as :data:`MAX_DEPTH`."""
    try:
        again = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return False
    return again == data and _TOO_DEEP_INDENT not in data


def loads_strict(data: bytes | str) -> Any:
    """Parse one JSON document strictly; raise :class:`StrictJSONError` on any ambiguity."""
    if isinstance(data, bytes):
        fast = canonical_value(data)
        if fast is not None:
            return fast
    return parse_strict(data)


def parse_strict(data: bytes | str) -> Any:
    """:func:`loads_strict` without its fast path: the standard library's parser, held to
    every rule, which says where and why a document is refused."""
    if isinstance(data, bytes):
        if data.startswith(_BOM):
            raise StrictJSONError("starts with a byte-order mark (BOM)", 1, 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError(f"invalid UTF-8 at byte {exc.start}") from None
    else:
        text = data
        if text.startswith("\ufeff"):
            raise StrictJSONError("starts with a byte-order mark (BOM)", 1, 1)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_checked_int,
        )
    except json.JSONDecodeError as exc:
        raise StrictJSONError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        # CPython's decoder guards its recursion: hostile nesting ends here, not in a crash.
        raise StrictJSONError(f"nesting deeper than {MAX_DEPTH}") from None
    # Each walk runs only when the text could hold what it looks for.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(value)
    if _SURROGATE_ESCAPE.search(text):
        _check_strings(value)
    return value
