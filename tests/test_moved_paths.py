"""govern 0.1's module paths keep working for one release, with a DeprecationWarning that
names the new place (issue 12 point 5): a plugin written against them still loads."""

from __future__ import annotations

import importlib
import warnings

import pytest

import govern.api

# The paths govern 0.1's docs and example plugin imported from, and a name from each.
OLD_PATHS = [
    ("govern.models", "Snapshot"),
    ("govern.models", "RunView"),
    ("govern.models", "Delta"),
    ("govern.models", "RegistryKind"),
    ("govern.config", "Registry"),
    ("govern.config", "Workspace"),
    ("govern.snapshots", "discover_artifact_snapshots"),
    ("govern.snapshots", "sealed_file_bytes"),
    ("govern.manifest", "SealCheck"),
    ("govern.sealing", "SealResult"),
    ("govern.jsonio", "dump_canonical"),
    ("govern.jsonl_reader", "parse_line"),
    ("govern.progress", "Progress"),
    ("govern.markers", "hookimpl"),
]


@pytest.mark.parametrize(("module", "name"), OLD_PATHS)
def test_an_old_path_still_gives_the_same_object_with_a_deprecation_warning(module: str, name: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{name} has moved: import it from govern\.api") as caught:
        value = getattr(importlib.import_module(module), name)
    assert value is getattr(govern.api, name)
    assert caught[0].filename == __file__  # the warning points at the importer, not at govern


def test_a_name_outside_the_public_api_names_its_new_module() -> None:
    with pytest.warns(DeprecationWarning, match=r"govern\.manifest\.read_seal has moved: import it from govern\.seal\.seal_file"):
        from govern.manifest import read_seal  # noqa: F401


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
            importlib.import_module("govern.models").nothing_here  # noqa: B018
