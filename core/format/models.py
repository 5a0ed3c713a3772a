"""The value objects plugins and the host exchange: snapshots, deltas, records, kinds, ops.

All are frozen attrs classes. JSON shapes (``to_json``) are the external contract of
docs/delta-log.md, "Records"; the JSON Schema in ``schemas/`` is its formal statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

#: The record version written unless ``[workspace] record_version`` says otherwise.
DELTA_VERSION = "0.1"
#: The bases of the built-in plugins, the only ones record v0.1 admits. ``unknown`` is the
#: honest answer when sealed evidence is missing.
BUILTIN_BASES = ("manifest_diff", "unknown")
#: A delta's basis: one of :data:`BUILTIN_BASES`, or (from record v0.2 on) a name a plugin
#: declares through ``govern_delta_bases``.
DeltaBasis = str


def _string_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class SourceVersion:
    """One version of a registry kept where it is, outside the runs root — an OCFL object's
    version, a BagIt bag, a git commit — as its kind's plugin reads it
    (:func:`govern.host.hookspecs.govern_source_versions`).

    ``version`` is the source's own name of it (``"v3"``, a bag's folder name, a commit id);
    ``location`` where it is, relative to the workspace (POSIX; absolute when outside it);
    ``pin`` the evidence that fixes it: ``"sha256:<hex>"`` of the bytes that describe it (an
    OCFL version's inventory, a bag's tag manifest) or ``"git:<commit id>"``; ``entries`` its
    logical state, path -> lower-case SHA-256 hex of the content; ``problem`` why it does not
    validate (an OCFL code, the bag check that failed), None when it does; ``created_utc`` the
    source's own date of it (``YYYY-MM-DDTHH:MM:SSZ``) when it has one; ``warnings`` what its
    validation found that does not stop it (OCFL ``W0xx`` codes, bagit-python's warnings),
    shown by the build that records the version.
    """

    version: str
    location: str
    pin: str
    entries: Mapping[str, str]
    problem: str | None = None
    created_utc: str | None = None
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_string_tuple)


@attrs.frozen
class SealedRef:
    """A pointer to a snapshot: which run, where, which artifact, which manifest."""

    run_id: str
    run_root: str
    relpath: str | None
    manifest_sha256: str | None

    @property
    def label(self) -> str:
        """How people are shown it: the run id."""
        return self.run_id

    def to_json(self) -> dict[str, Any]:
        """The ``sealed_ref`` JSON object."""
        return {
            "run_id": self.run_id,
            "run_root": self.run_root,
            "relpath": self.relpath,
            "manifest_sha256": self.manifest_sha256,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SealedRef:
        """Rebuild from a record's ``from_ref``/``to_ref`` object."""
        return cls(data["run_id"], data["run_root"], data["relpath"], data["manifest_sha256"])


def source_listing(entries: Mapping[str, str]) -> bytes:
    """A source version's listing in ``sha256sum`` format: one ``"<sha256>  <path>\\n"`` line
    per entry, sorted by the path's UTF-8 bytes (what a :class:`SourceRef`'s
    ``manifest_sha256`` hashes; ``sha256sum -c`` can check it against a checkout)."""
    # UTF-8 orders bytes as code points are ordered (surrogates included, encoded as
    # surrogatepass does), so sorting the strings themselves is sorting their bytes — without
    # encoding every path once more (tests/test_source_snapshots.py proves the two equal).
    ordered = sorted(entries.items())
    return "".join(f"{digest}  {path}\n" for path, digest in ordered).encode("utf-8", "surrogatepass")


@attrs.frozen
class SourceRef:
    """A pointer to a snapshot kept outside the runs root (a ``source_ref``, record version
    0.2): the kind of source, where it is, which version, the pin that fixes that version and
    the SHA-256 of its listing (:func:`source_listing`)."""

    source: str
    location: str
    version: str
    pin: str
    manifest_sha256: str

    @classmethod
    def of(cls, kind: str, version: SourceVersion) -> SourceRef:
        """The ref of ``version``, a version of a registry of ``kind``."""
        listing_sha256 = hashlib.sha256(source_listing(version.entries)).hexdigest()
        return cls(kind, version.location, version.version, version.pin, listing_sha256)

    @property
    def label(self) -> str:
        """How people are shown it: ``<location>@<version>``."""
        return f"{self.location}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        """The ``source_ref`` JSON object."""
        return {
            "source": self.source,
            "location": self.location,
            "version": self.version,
            "pin": self.pin,
            "manifest_sha256": self.manifest_sha256,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceRef:
        """Rebuild from a record's ``from_ref``/``to_ref`` object."""
        return cls(data["source"], data["location"], data["version"], data["pin"], data["manifest_sha256"])


#: A record's ``from_ref``/``to_ref``: a sealed run, or a version kept where it is.
SnapshotRef = SealedRef | SourceRef


def ref_from_json(data: dict[str, Any]) -> SnapshotRef:
    """A ``sealed_ref`` or ``source_ref`` object rebuilt (a ``source`` key makes it a source_ref)."""
    return SourceRef.from_json(data) if "source" in data else SealedRef.from_json(data)


def ref_label(ref: Any) -> str | None:
    """What names a record's ref (a JSON object) to people: a sealed_ref's run id, a
    source_ref's ``<location>@<version>``; None for no ref (a bootstrap's ``from_ref``)."""
    if not isinstance(ref, dict):
        return None
    if "source" in ref:
        return f"{ref.get('location')}@{ref.get('version')}"
    run_id = ref.get("run_id")
    return run_id if isinstance(run_id, str) else None


def _sorted_tuple(paths: Any) -> tuple[str, ...]:
    return tuple(sorted(paths))


def _sorted_pairs(pairs: Iterable[Iterable[str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(old), str(new)) for old, new in pairs))


@attrs.frozen
class Delta:
    """What changed between two snapshots, or why it cannot be known.

    ``renamed`` holds exact renames, ``(from_path, to_path)`` sorted by from-path: a path
    removed and another added with the same SHA-256 (:func:`govern.format.renames.pair_exact_renames`);
    neither path of a pair is also in ``added`` or ``removed``. Only ``manifest_diff`` finds them;
    a basis computed by a plugin over keys (``row_diff``, ``member_diff``) has none.
    """

    basis: DeltaBasis
    added: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    removed: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    modified: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    unknown_reason: str | None = None
    renamed: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_sorted_pairs)

    def __attrs_post_init__(self) -> None:
        if self.basis == "unknown":
            if not self.unknown_reason or self.added or self.removed or self.modified or self.renamed:
                raise ValueError("an unknown delta has a reason and no paths")
        elif self.unknown_reason is not None:
            raise ValueError("only an unknown delta has an unknown_reason")
        if self.renamed:
            moved = [path for pair in self.renamed for path in pair]
            if len(set(moved)) != len(moved) or set(moved) & {*self.added, *self.removed, *self.modified}:
                raise ValueError("a renamed path is in one rename only, and neither added, removed nor modified")

    def without_renames(self) -> Delta:
        """This delta with each rename put back as its from-path removed and its to-path added:
        what record version 0.1 (which has no ``renamed_paths``) and ``govern diff`` show."""
        if not self.renamed:
            return self
        return attrs.evolve(
            self,
            added=(*self.added, *(new for _, new in self.renamed)),
            removed=(*self.removed, *(old for old, _ in self.renamed)),
            renamed=(),
        )

    def counts(self) -> dict[str, int | None]:
        """Tri-state counts: integers when known, None when the basis is unknown."""
        if self.basis == "unknown":
            return {"added": None, "removed": None, "modified": None}
        return {"added": len(self.added), "removed": len(self.removed), "modified": len(self.modified)}


@attrs.frozen
class DeltaRecord:
    """One line of the delta log."""

    registry_id: str
    from_ref: SnapshotRef | None
    to_ref: SnapshotRef
    delta: Delta
    created_utc: str
    derivation_run_id: str
    #: The record version (``[workspace] record_version``).
    delta_version: str = DELTA_VERSION

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object (docs/delta-log.md, "Records").

        A v0.1 record has no ``renamed_paths``: its renames are shown as a removal and an
        addition, so a v0.1 log is written byte for byte as before renames were detected. From
        v0.2 on the field is always there (an empty list when nothing was renamed).
        """
        delta = self.delta.without_renames() if self.delta_version == DELTA_VERSION else self.delta
        record: dict[str, Any] = {
            "delta_version": self.delta_version,
            "registry_id": self.registry_id,
            "from_ref": None if self.from_ref is None else self.from_ref.to_json(),
            "to_ref": self.to_ref.to_json(),
            "delta_basis": delta.basis,
            "added_paths": list(delta.added),
            "removed_paths": list(delta.removed),
            "modified_paths": list(delta.modified),
            "counts": delta.counts(),
            "created_utc": self.created_utc,
            "derivation_run_id": self.derivation_run_id,
        }
        if self.delta_version != DELTA_VERSION:
            record["renamed_paths"] = [[old, new] for old, new in delta.renamed]
        if delta.unknown_reason is not None:
            record["unknown_reason"] = delta.unknown_reason
        return record


def _names(values: Iterable[str]) -> tuple[str, ...]:
    """``values`` as a tuple (a typed converter: mypy cannot bind ``tuple``'s overloads as one)."""
    return tuple(values)


@attrs.frozen
class RegistryKind:
    """A registry kind a plugin handles, e.g. ``sealed`` or ``external``.

    ``requires`` names the config keys a registry of this kind must set (checked when the
    configuration is loaded): a registry key such as ``artifact``, or ``options.NAME`` for a
    key of the registry's ``options`` table. ``keys`` names the kind-specific registry-level
    keys the kind uses (``dsn``, ``pattern``, ``path``…: fields of the config layer's
    ``RegistryConfig`` beyond those every kind has); a registry that sets one its kind does
    not use is a configuration error naming the kinds that do, and a kind declaring a key
    ``RegistryConfig`` does not have is a plugin error. A required registry-level key counts
    as used. ``options`` declares every key that table may
    hold, name → what it means (shown by ``govern registry show`` and in errors); an option a
    registry sets that its kind does not declare is a configuration error, so a typo never
    passes. A required ``options.NAME`` counts as declared. A kind built as
    ``RegistryKind(name, summary)`` declares no options and no keys. ``excluded`` says the kind is
    excluded from the delta log by design. ``snapshots`` says the kind's plugin answers
    ``govern_snapshot`` (``govern snapshot REGISTRY`` writes its snapshots; other kinds are refused).
    """

    name: str
    summary: str
    requires: tuple[str, ...] = ()
    excluded: bool = False
    options: Mapping[str, str] = attrs.field(factory=dict, converter=dict, hash=False)
    #: The kind's plugin takes snapshots itself (hook ``govern_snapshot``: ``govern snapshot``).
    snapshots: bool = False
    #: The artifact (a folder) every snapshot run of this kind holds, for a kind that writes its
    #: own snapshots (``table``, ``collection``): what the registry catalog lists as its artifact.
    snapshot_artifact: str | None = None
    #: The kind-specific registry-level keys a registry of this kind may set (e.g. ``dsn``).
    keys: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def accepted_keys(self) -> tuple[str, ...]:
        """The kind-specific registry-level keys a registry of this kind may set, sorted: the
        declared ``keys`` and the required registry-level keys (not ``options.NAME``)."""
        required = (key for key in self.requires if not key.startswith("options."))
        return tuple(sorted({*self.keys, *required}))

    def accepted_options(self) -> tuple[str, ...]:
        """The option names a registry of this kind may set, sorted: the declared ones and
        the required ``options.NAME`` keys."""
        required = (key.removeprefix("options.") for key in self.requires if key.startswith("options."))
        return tuple(sorted({*self.options, *required}))


@attrs.frozen
class Operation:
    """An operation a plugin provides, for the allowed-operations catalog."""

    op_id: str
    title: str
    executables: tuple[str, ...]
    coverage: str
    enforcement: tuple[str, ...]


@attrs.frozen
class CatalogEntry:
    """A registry a plugin contributes to the registry catalog (or its addendum)."""

    registry_id: str
    kind: str
    sealed: bool
    artifact: str | None = None
    description: str | None = None


@attrs.frozen
class ReportSection:
    """A Markdown section a plugin adds to a report; ``order`` sorts sections."""

    title: str
    markdown: str
    order: int = 500
