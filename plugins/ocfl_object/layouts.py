"""Finding an object under an OCFL storage root by its id: the root's storage layout
(``ocfl_layout.json``) maps the id to the object's path — ``0002-flat-direct`` and
``0003-hash-and-id-n-tuple`` through ocfl-py, ``0004-hashed-n-tuple`` here (ocfl-py has no
0004) — and a root without a layout (or with a layout none of these) is walked for
``0=ocfl_object_*`` declarations, each object's id read from its inventory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govern.errors import GovernError

ROOT_DECLARATION_PREFIX = "0=ocfl_"
OBJECT_DECLARATION_PREFIX = "0=ocfl_object_"
LAYOUT_FILE = "ocfl_layout.json"
HASHED_N_TUPLE = "0004-hashed-n-tuple-storage-layout"


def is_storage_root(path: Path) -> bool:
    """True when ``path`` declares an OCFL storage root (``0=ocfl_1.x``)."""
    return any(p.name.startswith(ROOT_DECLARATION_PREFIX) and not p.name.startswith(OBJECT_DECLARATION_PREFIX) for p in path.iterdir())


def _hashed_n_tuple_class() -> type:
    """The 0004 layout as an ocfl-py :class:`ocfl.layout.Layout` (registered with ocfl-py's
    layout registry, so the root's own config is read and checked the way ocfl-py reads 0003's)."""
    from ocfl.layout import Layout, LayoutException

    class HashedNTuple(Layout):
        """OCFL community extension 0004: the id's digest split into ``numberOfTuples`` tuples
        of ``tupleSize`` characters, then the digest (or, with ``shortObjectRoot``, its rest)."""

        def __init__(self) -> None:
            super().__init__()
            self.NAME = HASHED_N_TUPLE
            self.DESCRIPTION = "Extension 0004: Hashed N-tuple Storage Layout"
            self.digest_algorithm = "sha256"
            self.tuple_size = 3
            self.number_of_tuples = 3
            self.short_object_root = False
            self.PARAMS = {
                "digestAlgorithm": self._set_digest_algorithm,
                "tupleSize": self._set_int("tuple_size", 0, 32),
                "numberOfTuples": self._set_int("number_of_tuples", 0, 32),
                "shortObjectRoot": self._set_short_object_root,
            }

        def _set_digest_algorithm(self, value: Any) -> None:
            if value is None:
                return
            if not isinstance(value, str) or value not in hashlib.algorithms_available:
                raise LayoutException(f"digestAlgorithm {value!r} is not a digest algorithm")
            self.digest_algorithm = value

        def _set_int(self, attribute: str, low: int, high: int) -> Any:
            def setter(value: Any) -> None:
                if value is None:
                    return
                if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                    raise LayoutException(f"{attribute}: {value!r} is not an integer in {low}..{high}")
                setattr(self, attribute, value)

            return setter

        def _set_short_object_root(self, value: Any) -> None:
            if value is None:
                return
            if not isinstance(value, bool):
                raise LayoutException(f"shortObjectRoot: {value!r} is not a boolean")
            self.short_object_root = value

        def check_full_config(self) -> None:
            if (self.tuple_size == 0) != (self.number_of_tuples == 0):
                raise LayoutException("tupleSize and numberOfTuples must both be 0, or neither")
            digest_length = len(hashlib.new(self.digest_algorithm, b"").hexdigest())
            if self.tuple_size * self.number_of_tuples > digest_length or (
                self.short_object_root and self.tuple_size * self.number_of_tuples == digest_length
            ):
                raise LayoutException("tupleSize x numberOfTuples leaves no object root within the digest")

        def identifier_to_path(self, identifier: str) -> str:
            digest = hashlib.new(self.digest_algorithm, identifier.encode("utf-8")).hexdigest().lower()
            size, count = self.tuple_size, self.number_of_tuples
            tuples = [digest[i * size : (i + 1) * size] for i in range(count)]
            last = digest[size * count :] if self.short_object_root else digest
            return "/".join([*tuples, last])

    return HashedNTuple


def _layout(name: str) -> Any:
    """An ocfl-py layout object for ``name`` (0004 registered first); None when unsupported."""
    from ocfl import layout_registry

    if not layout_registry.layout_is_supported(HASHED_N_TUPLE):
        layout_registry.add_layout(HASHED_N_TUPLE, _hashed_n_tuple_class())
    return layout_registry.get_layout(name) if layout_registry.layout_is_supported(name) else None


def _layout_name(root: Path) -> str | None:
    """The layout extension ``ocfl_layout.json`` names, or None without one."""
    file = root / LAYOUT_FILE
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_bytes())
    except (OSError, ValueError) as exc:
        raise GovernError("E_JSON_INVALID", f"{file}: not a readable layout description ({exc})") from None
    name = data.get("extension") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise GovernError("E_JSON_INVALID", f"{file}: no 'extension' naming the storage layout")
    return name


def object_path_by_layout(root: Path, object_id: str) -> Path | None:
    """Where the root's layout puts ``object_id`` (None when the root has no layout govern
    knows: then the root is walked)."""
    name = _layout_name(root)
    layout = None if name is None else _layout(name)
    if layout is None:
        return None
    from ocfl.fsw import fsw_openfs
    from ocfl.layout import LayoutException

    try:
        layout.read_layout_params(root_fs=fsw_openfs(str(root)))
        return root / layout.identifier_to_path(object_id)
    except LayoutException as exc:
        raise GovernError("E_CONFIG_INVALID", f"{root}: storage layout {name}: {exc}") from None


def walk_objects(root: Path) -> Iterator[Path]:
    """Every object root under the storage root ``root`` (a folder declaring
    ``0=ocfl_object_*``; an object's own folders are not searched), in path order."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        if any(name.startswith(OBJECT_DECLARATION_PREFIX) for name in files):
            dirs.clear()
            yield Path(folder)
        elif "extensions" in dirs and Path(folder) == root:
            dirs.remove("extensions")


def inventory_id(object_root: Path) -> str | None:
    """The ``id`` of an object's root inventory (None when it has none readable)."""
    try:
        data = json.loads((object_root / "inventory.json").read_bytes())
    except (OSError, ValueError):
        return None
    found = data.get("id") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def find_object(root: Path, object_id: str) -> Path:
    """The root of object ``object_id`` under the storage root ``root``: by the root's layout,
    else by a walk; E_OCFL_OBJECT_NOT_FOUND naming the root, the id and the ids there are."""
    by_layout = object_path_by_layout(root, object_id)
    if by_layout is not None:
        if by_layout.is_dir():
            return by_layout
        raise GovernError("E_OCFL_OBJECT_NOT_FOUND", f"{root}: object {object_id!r} is not where the storage layout puts it ({by_layout})")
    found = {inventory_id(path): path for path in walk_objects(root)}
    if object_id in found:
        return found[object_id]
    known = ", ".join(sorted(repr(i) for i in found if i is not None)) or "none"
    raise GovernError("E_OCFL_OBJECT_NOT_FOUND", f"{root}: no object with id {object_id!r} under this storage root (objects: {known})")
