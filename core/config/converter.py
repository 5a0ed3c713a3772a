"""The one cattrs converter factory: strict structuring of TOML/JSON data into attrs models.

Strict means: unknown keys are errors (``forbid_extra_keys``) and scalars are never coerced
(cattrs would otherwise turn ``3`` into ``"3"`` for a ``str`` field, hiding a typo'd config).
"""

from __future__ import annotations

from typing import Any

import cattrs
from cattrs.cols import is_mutable_sequence, list_structure_factory
from cattrs.preconf.tomllib import make_converter as _make_tomllib_converter


def _exact(kind: type, label: str):
    def structure(value: Any, _type: type) -> Any:
        # bool is a subclass of int: ``port = true`` must not pass as an integer.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"expected {label}, got {type(value).__name__} {value!r}")
        return value

    return structure


def _strict_list_factory(type_: Any, converter: cattrs.Converter):
    # cattrs structures any iterable into a list, so ``disable = "ab"`` would become
    # ["a", "b"]: only a real list (a TOML/JSON array) is accepted.
    structure_items = list_structure_factory(type_, converter)

    def structure(value: Any, _type: Any) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__} {value!r}")
        return structure_items(value, _type)

    return structure


def _count_or_percentage(value: Any, _type: type) -> Any:
    # A policy limit (docs/policies.md): an integer count or a percentage string; its value
    # is checked with the key named (govern.config.workspace), its type here.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f'expected an integer count or a percentage string such as "10%", got {type(value).__name__} {value!r}')
    return value


def make_converter() -> cattrs.Converter:
    """A fresh strict converter (never the global one)."""
    converter = _make_tomllib_converter(forbid_extra_keys=True)
    converter.register_structure_hook_factory(is_mutable_sequence, _strict_list_factory)
    converter.register_structure_hook(str, _exact(str, "a string"))
    converter.register_structure_hook(int, _exact(int, "an integer"))
    converter.register_structure_hook(bool, _exact(bool, "true or false"))
    converter.register_structure_hook_func(lambda type_: type_ == int | str | None, _count_or_percentage)
    return converter


def describe_structure_error(exc: Exception) -> list[str]:
    """Messages like ``expected a string @ $.registries.x.artifact`` for each failure."""
    return cattrs.transform_error(exc, path="$")
