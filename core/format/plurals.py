"""Counted nouns for people: ``1 file``, ``2 files``, ``1 registry``, ``3 registries``.

One helper, so every summary line agrees (no ``record(s)``, no ``1 files``).
"""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and the noun in the right number: ``plural(1, "file")`` is ``1 file``,
    ``plural(2, "file")`` is ``2 files``; irregular plurals are given:
    ``plural(2, "registry", "registries")``, ``plural(2, "criterion", "criteria")``."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
