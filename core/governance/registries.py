"""Registries known to govern, and where the books list them: catalog, addenda, freeze.

A registry is *known* when it is configured in ``registry_config.toml`` or a plugin
contributes it (``govern_catalog_addenda``; the delta-log plugin contributes
``registry_delta_log``). It is *sealed* when its snapshots are sealed runs — every registry
not excluded from the delta log by design (a ``collection`` once it selects its members). An unfrozen registry catalog takes new
registries itself (``governance sync``); a frozen one never changes again, and the registries
it lacks go into an addendum (``governance addendum --label L``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError
from govern.format.models import CatalogEntry
from govern.governance.documents import LABEL_PATTERN, CatalogAddendum, Document, RegistryCatalog
from govern.governance.revision import Update, first_version, revise
from govern.governance.scorecard import complete_update, ensure_scorecard_current
from govern.governance.store import Books
from govern.governance.versioning import Change
from govern.host.manager import PluginHost


@attrs.frozen
class KnownRegistry:
    """A registry govern knows of, and where from (``config`` or ``plugin``)."""

    entry: CatalogEntry
    origin: str


def configured_entries(workspace: Workspace, host: PluginHost) -> list[CatalogEntry]:
    """A catalog entry for every configured registry, sorted by id."""
    kinds = host.registry_kinds()
    entries = []
    for registry in workspace.registries():
        kind = kinds.get(registry.kind)
        # Per registry, not per kind: a collection is sealed once it selects its members (its
        # snapshots are then sealed index runs), excluded by design until then.
        sealed = kind is not None and not kind.excluded and host.exclusion(registry, workspace) is None
        description = registry.config.description or registry.config.reason
        # A kind writing its own snapshot runs (sql_table, collection) names the folder they
        # hold: that is the registry's sealed artifact, whatever else its config names.
        artifact = kind.snapshot_artifact if sealed and kind is not None and kind.snapshot_artifact else registry.config.artifact
        entries.append(CatalogEntry(registry.id, registry.kind, sealed, artifact, description))
    return entries


def known_registries(workspace: Workspace, host: PluginHost) -> dict[str, KnownRegistry]:
    """Every known registry by id: configured ones, then plugin contributions not configured."""
    known = {e.registry_id: KnownRegistry(e, "config") for e in configured_entries(workspace, host)}
    for entry in host.catalog_addenda(workspace):
        known.setdefault(entry.registry_id, KnownRegistry(entry, "plugin"))
    return dict(sorted(known.items()))


def catalogued_ids(books: Books, *, except_label: str | None = None) -> set[str]:
    """Registry ids in the catalog and the addenda (but the one labelled ``except_label``)."""
    ids = set(books.registry_catalog.ids())
    for addendum in books.addenda:
        if addendum.label != except_label:
            ids.update(addendum.ids())
    return ids


def uncatalogued(books: Books, known: Mapping[str, KnownRegistry]) -> list[KnownRegistry]:
    """Known registries absent from the catalog and every addendum."""
    present = catalogued_ids(books)
    return [item for rid, item in known.items() if rid not in present]


def _describe(entry: CatalogEntry) -> str:
    return f"kind {entry.kind}, {'sealed' if entry.sealed else 'not sealed'}"


def registry_changes(before: tuple[CatalogEntry, ...], after: tuple[CatalogEntry, ...]) -> list[Change]:
    """ADD / REMOVE / CHANGE lines between two registry lists."""
    old = {e.registry_id: e for e in before}
    new = {e.registry_id: e for e in after}
    changes = []
    for rid in sorted(old.keys() | new.keys()):
        if rid not in old:
            changes.append(Change(f"ADD {rid}", _describe(new[rid])))
        elif rid not in new:
            changes.append(Change(f"REMOVE {rid}", _describe(old[rid])))
        elif old[rid] != new[rid]:
            changes.append(Change(f"CHANGE {rid}", f"{_describe(old[rid])} → {_describe(new[rid])}"))
    return changes


def check_label(label: str) -> str:
    """``label`` if it is a valid addendum label ([a-z0-9_]+), else E_USAGE."""
    if not LABEL_PATTERN.fullmatch(label):
        raise GovernError("E_USAGE", f"--label {label!r}: a label is lowercase letters, digits and '_' (e.g. phase_2_2_3)")
    return label


def default_label(books: Books) -> str | None:
    """The label of the addendum created last (None when there is none)."""
    if not books.addenda:
        return None
    return max(books.addenda, key=lambda a: (a.changelog[0].date, a.label)).label


def derive_addendum(books: Books, known: Mapping[str, KnownRegistry], label: str, clock: dt.datetime) -> CatalogAddendum | None:
    """The next version of addendum ``label`` (or its first), or None when it is up to date.

    Its registries: every known registry absent from the frozen catalog and from the other
    addenda. Deterministic: the same books, registries and clock give the same bytes.
    """
    catalog = books.registry_catalog
    if not catalog.frozen:
        raise GovernError(
            "E_GOVERNANCE_NOT_FROZEN",
            f"{catalog.relpath}: the registry catalog is not frozen, so registries go into the catalog itself "
            "('govern governance sync'); freeze it first ('govern governance freeze') to start addenda",
        )
    elsewhere = catalogued_ids(books, except_label=label)
    entries = tuple(item.entry for rid, item in known.items() if rid not in elsewhere)
    existing = books.addendum(label)
    if existing is None:
        if not entries:
            return None
        document = CatalogAddendum(label, catalog.version, "0.1", (), entries)
        return first_version(document, registry_changes((), entries), clock)
    if existing.extends_version != catalog.version:
        raise GovernError(
            "E_GOVERNANCE_INVALID",
            f"{existing.relpath}: extends registry catalog v{existing.extends_version}, but the frozen catalog is v{catalog.version}",
        )
    if existing.registries == entries:
        return None
    return revise(existing, attrs.evolve(existing, registries=entries), registry_changes(existing.registries, entries), clock)


def addendum_update(books: Books, known: Mapping[str, KnownRegistry], label: str, clock: dt.datetime) -> Update:
    """The update regenerating addendum ``label``, with the re-derived scorecard."""
    check_label(label)
    document = derive_addendum(books, known, label, clock)
    if document is None:
        return Update((), books)
    ensure_scorecard_current(books)
    return complete_update(books, [document], clock)


def catalog_with(books: Books, missing: list[KnownRegistry], clock: dt.datetime) -> RegistryCatalog:
    """The unfrozen registry catalog's next version with ``missing`` added."""
    catalog = books.registry_catalog
    entries = tuple(sorted((*catalog.registries, *(item.entry for item in missing)), key=lambda e: e.registry_id))
    return revise(catalog, attrs.evolve(catalog, registries=entries), registry_changes(catalog.registries, entries), clock)


def freeze_update(books: Books, clock: dt.datetime) -> Update:
    """The update freezing the registry catalog (empty when it is frozen already)."""
    catalog = books.registry_catalog
    if catalog.frozen:
        return Update((), books)
    frozen = revise(
        catalog,
        attrs.evolve(catalog, frozen=True),
        [Change("FREEZE", f"{len(catalog.registries)} registr{'y' if len(catalog.registries) == 1 else 'ies'}; later registries go into addenda")],
        clock,
    )
    return complete_update(books, [frozen], clock)



@attrs.frozen
class RegistryRemoval:
    """What removing a registry does to the books: the update, and where it stays listed."""

    update: Update
    #: Documents that keep listing the registry because they are frozen (never modified).
    kept_in: tuple[str, ...]


def removal_update(books: Books, registry_id: str, clock: dt.datetime) -> RegistryRemoval:
    """The update taking ``registry_id`` out of the unfrozen registry catalog and of any
    addendum, with the re-derived scorecard.

    A frozen catalog is never modified: a registry it lists stays listed there (``kept_in``
    says so). A registry the books never listed gives an empty update.
    """
    documents: list[Document] = []
    kept_in: list[str] = []
    catalog = books.registry_catalog
    if registry_id in catalog.ids():
        if catalog.frozen:
            kept_in.append(f"{catalog.relpath} v{catalog.version} (frozen)")
        else:
            entries = tuple(e for e in catalog.registries if e.registry_id != registry_id)
            documents.append(revise(catalog, attrs.evolve(catalog, registries=entries), registry_changes(catalog.registries, entries), clock))
    for addendum in books.addenda:
        if registry_id not in addendum.ids():
            continue
        if addendum.frozen:
            kept_in.append(f"{addendum.relpath} v{addendum.version} (frozen)")
            continue
        entries = tuple(e for e in addendum.registries if e.registry_id != registry_id)
        documents.append(revise(addendum, attrs.evolve(addendum, registries=entries), registry_changes(addendum.registries, entries), clock))
    if not documents:
        return RegistryRemoval(Update((), books), tuple(kept_in))
    ensure_scorecard_current(books)
    return RegistryRemoval(complete_update(books, documents, clock), tuple(kept_in))
