"""``KEY=VALUE`` command-line options (``registry add --option``, ``seal --input/--param``)."""

from __future__ import annotations

from collections.abc import Iterable

from govern.errors import GovernError


def parse_key_values(option: str, values: Iterable[str]) -> dict[str, str]:
    """``{KEY: VALUE}`` from repeated ``option KEY=VALUE`` arguments, in the order given.

    E_USAGE (exit 2) naming the option for a value without ``=`` or with an empty key, and for
    a key given twice (a later one silently winning would hide a typo).
    """
    parsed: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise GovernError("E_USAGE", f"{option} {value!r}: expected KEY=VALUE")
        if key.strip() in parsed:
            raise GovernError("E_USAGE", f"{option} {key.strip()!r} given twice")
        parsed[key.strip()] = text
    return parsed
