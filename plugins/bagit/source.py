"""A ``bagit`` registry's versions: the bags in its folder, read (or taken from the cache) and ordered.

The registry's ``path`` (relative to the workspace, or absolute) is a folder whose sub-folders are
bags: a folder of bags, each a snapshot, or the successive versions of one bag kept as
separate folders (``v1/``, ``v2/``…). Every sub-folder whose name does not start with ``.`` is
a version — a folder that is not a valid bag (no ``bagit.txt``…) is a version with a problem,
never silently skipped. Order (the registry's ``order_by``): by a bag-info tag's value
(``Bagging-Date`` by default; a bag without it sorts first), then by folder name; ``name``:
by folder name alone, runs of digits compared as numbers (``v2`` before ``v10``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs

from govern.config.workspace import Registry, Workspace
from govern.errors import GovernError
from govern.format.bagit import first_tag_value
from govern.format.models import SourceVersion
from govern.plugins.bagit.reading import BagReading, read_bag
from govern.plugins.bagit.validation_cache import bag_fingerprint, cached_reading, store_reading
from govern.runtime.progress import Progress

KIND = "bagit"
#: ``order_by``'s default: the bag-info tag bags are ordered by.
DEFAULT_ORDER = "Bagging-Date"
#: ``order_by = "name"``: order by folder name alone.
ORDER_BY_NAME = "name"


@attrs.frozen
class BagSettings:
    """What a ``bagit`` registry configures, checked."""

    folder: Path
    order_by: str


@attrs.frozen
class ReadBag:
    """One bag of the registry: its folder name and what reading it found."""

    name: str
    reading: BagReading


def bag_settings(registry: Registry, workspace: Workspace) -> BagSettings:
    """The registry's settings; E_CONFIG_INVALID naming the key, E_NOT_A_DIRECTORY when
    ``path`` is not a folder."""
    config = registry.config
    where = f"{workspace.config_path}: registries.{registry.id}"
    path = config.path
    if not path:
        raise GovernError("E_CONFIG_INVALID", f"{where}.path: expected the folder of the bags (a string)")
    order_by = DEFAULT_ORDER if config.order_by is None else config.order_by
    if not order_by.strip():
        raise GovernError("E_CONFIG_INVALID", f"{where}.order_by: expected a bag-info tag name or \"name\"")
    folder = Path(path) if os.path.isabs(path) else workspace.root / path
    if not folder.is_dir():
        raise GovernError("E_NOT_A_DIRECTORY", f"{where}.path: {path}: no such folder of bags")
    return BagSettings(folder, order_by)


def _location(folder: Path, workspace: Workspace) -> str:
    """``folder`` relative to the workspace (POSIX), absolute when outside it."""
    absolute = Path(os.path.abspath(folder))
    try:
        return absolute.relative_to(Path(os.path.abspath(workspace.root))).as_posix()
    except ValueError:
        return absolute.as_posix()


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """``name`` split into text and numbers, numbers compared as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part)


def read_registry_bags(settings: BagSettings, workspace: Workspace, progress: Progress) -> list[ReadBag]:
    """Every bag of the registry, read (through the cache), in the registry's order."""
    names = sorted(entry.name for entry in os.scandir(settings.folder) if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."))
    progress.start(len(names), "bags")
    bags = []
    for name in names:
        bag_dir = settings.folder / name
        fingerprint = bag_fingerprint(bag_dir)
        reading = cached_reading(workspace.root, bag_dir, fingerprint)
        if reading is None:
            reading = read_bag(bag_dir, name)
            store_reading(workspace.root, bag_dir, fingerprint, reading)
        bags.append(ReadBag(name, reading))
        progress.advance(1)
    if settings.order_by == ORDER_BY_NAME:
        return sorted(bags, key=lambda bag: _natural_key(bag.name))
    return sorted(bags, key=lambda bag: (first_tag_value(bag.reading.info, settings.order_by) or "", bag.name))


def _created_utc(reading: BagReading) -> str | None:
    """The bag's Bagging-Date as a UTC time at midnight, when it is a plain date."""
    date = first_tag_value(reading.info, "Bagging-Date")
    if date is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date.strip()):
        return f"{date.strip()}T00:00:00Z"
    return None


def source_versions(registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion]:
    """The registry's bags as source versions, oldest first, each with the warnings
    bagit-python (or govern's reading of its manifests) gave for it."""
    settings = bag_settings(registry, workspace)
    # Where the bags are (the version names the bag in it), as an OCFL object's path holds its versions.
    location = _location(settings.folder, workspace)
    return [
        SourceVersion(
            bag.name, location, bag.reading.pin, bag.reading.entries, bag.reading.problem, _created_utc(bag.reading), bag.reading.warnings
        )
        for bag in read_registry_bags(settings, workspace, progress)
    ]
