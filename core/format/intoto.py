"""in-toto Statement v1 (https://github.com/in-toto/attestation, ``spec/v1/statement.md``): build and parse.

A statement says something (``predicate``, of kind ``predicateType``) about artifacts
(``subject``: name and digest). govern's statements name each subject by its path and its
SHA-256 only, sorted by name, and are written as govern's canonical JSON, so the same run
gives the same bytes; they travel signed in a DSSE envelope (:mod:`govern.format.dsse`,
payload type :data:`PAYLOAD_TYPE`).

Reading is strict: exactly the four members, a non-empty subject list of unique names each
with a lowercase hex ``sha256`` digest (and no other digest: govern checks only SHA-256, and a
digest it would not check must not look checked), a non-empty predicate type and an object
predicate. Anything else is an :class:`InTotoError` naming the member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from govern.format.jsonio import StrictJSONError, dump_canonical, loads_strict

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: The DSSE payload type of an in-toto statement.
PAYLOAD_TYPE = "application/vnd.in-toto+json"

_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MEMBERS = {"_type", "subject", "predicateType", "predicate"}


class InTotoError(ValueError):
    """A statement that is not a valid in-toto Statement v1 as govern writes them."""


@attrs.frozen
class Subject:
    """One artifact the statement is about: its name (a path) and its SHA-256 (lowercase hex)."""

    name: str
    sha256: str


@attrs.frozen
class Statement:
    """An in-toto Statement v1: subjects sorted by name, the predicate type and the predicate."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any]


def statement_bytes(subjects: Iterable[Subject], predicate_type: str, predicate: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes of a statement about ``subjects`` (sorted by name here), checked as :func:`parse_statement` would."""
    value = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in sorted(subjects, key=lambda s: s.name)],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
    data = dump_canonical(value)
    parse_statement(data)  # one set of rules for writing and reading
    return data


def parse_statement(data: bytes) -> Statement:
    """The statement in ``data`` (strict JSON, any layout), or an :class:`InTotoError`."""
    try:
        value = loads_strict(data)
    except StrictJSONError as exc:
        raise InTotoError(f"statement is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InTotoError("statement must be a JSON object")
    missing, unknown = sorted(_MEMBERS - value.keys()), sorted(value.keys() - _MEMBERS)
    if missing or unknown:
        raise InTotoError(f"statement members: missing {missing}, unknown {unknown}")
    if value["_type"] != STATEMENT_TYPE:
        raise InTotoError(f"statement _type is {value['_type']!r}, expected {STATEMENT_TYPE!r}")
    if not isinstance(value["predicateType"], str) or not value["predicateType"]:
        raise InTotoError("statement predicateType must be a non-empty string")
    if not isinstance(value["predicate"], dict):
        raise InTotoError("statement predicate must be a JSON object")
    subjects = _subjects(value["subject"])
    return Statement(subjects, value["predicateType"], value["predicate"])


def _subjects(raw: Any) -> tuple[Subject, ...]:
    """The ``subject`` array: non-empty, unique names, each ``{"name", "digest": {"sha256"}}``."""
    if not isinstance(raw, list) or not raw:
        raise InTotoError("statement subject must be a non-empty array")
    subjects: list[Subject] = []
    for index, item in enumerate(raw):
        where = f"subject[{index}]"
        if not isinstance(item, dict) or set(item) != {"name", "digest"}:
            raise InTotoError(f"{where} must be an object with exactly 'name' and 'digest'")
        name, digest = item["name"], item["digest"]
        if not isinstance(name, str) or not name:
            raise InTotoError(f"{where}.name must be a non-empty string")
        if not isinstance(digest, dict) or set(digest) != {"sha256"}:
            raise InTotoError(f"{where}.digest must be exactly {{'sha256': …}}")
        if not isinstance(digest["sha256"], str) or not _SHA256.fullmatch(digest["sha256"]):
            raise InTotoError(f"{where}.digest.sha256 ({name}) must be 64 lowercase hex digits")
        subjects.append(Subject(name, digest["sha256"]))
    names = [s.name for s in subjects]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise InTotoError(f"statement subject names {duplicate!r} twice")
    return tuple(subjects)
