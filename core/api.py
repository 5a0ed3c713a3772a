"""The public API for plugin authors: everything a govern plugin needs, from one module.

A plugin imports from here only (and its tests from :mod:`govern.testing`)::

    from govern.api import Delta, RegistryKind, Snapshot, discover_artifact_snapshots, hookimpl

It holds the :data:`hookimpl` marker, every model a hook receives or returns (the
configuration, runs, snapshots, deltas, seals, the catalog entries…), the errors a hook
refuses with, the helpers for registries whose snapshots are an artifact in a sealed run
(discovering them, reading a sealed file hash-checked, the manifest diff) and strict JSON.

Stability: the names in ``__all__`` are the supported API and keep their meaning from
release to release. The modules they are defined in (``govern.format.models``, ``govern.config.workspace``,
``govern.runs.snapshots``, …) are govern's internals and may move or be split; import from them
and a plugin may break. The plugin author's guide, with every hook and every member of these
models, is ``docs/plugins.md``.

Importing this module costs what govern itself loads to run its built-in hooks (attrs,
pluggy, the models); it never imports the command line (typer, click).
"""

from __future__ import annotations

from govern.config.workspace import Registry, RegistryConfig, Workspace
from govern.errors import GovernError, Problem
from govern.format.jsonio import StrictJSONError, dump_canonical, loads_strict
from govern.format.jsonl import TornLineError, parse_jsonl, parse_line
from govern.format.manifest import Manifest, ManifestEntry, SealCheck
from govern.format.models import CatalogEntry, Delta, Operation, RegistryKind, ReportSection, SourceVersion
from govern.host.markers import hookimpl
from govern.runs.snapshots import discover_artifact_snapshots, manifest_delta, sealed_file_bytes
from govern.runs.views import RunView, Snapshot
from govern.runtime.progress import Progress
from govern.seal.sealing import SealResult

__all__ = [
    # implementing hooks
    "hookimpl",
    # the configuration hooks receive
    "Registry",
    "RegistryConfig",
    "Workspace",
    # runs, snapshots and deltas
    "RunView",
    "Snapshot",
    "Delta",
    "RegistryKind",
    # versions kept outside the runs root (govern_source_versions)
    "SourceVersion",
    # seals
    "SealCheck",
    "SealResult",
    "Manifest",
    "ManifestEntry",
    "Progress",
    # governance books and reports
    "Operation",
    "CatalogEntry",
    "ReportSection",
    # refusing
    "GovernError",
    "Problem",
    # helpers for artifact registries
    "discover_artifact_snapshots",
    "sealed_file_bytes",
    "manifest_delta",
    # strict JSON and JSONL
    "StrictJSONError",
    "dump_canonical",
    "loads_strict",
    "parse_jsonl",
    "parse_line",
    "TornLineError",
]
