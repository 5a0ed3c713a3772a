"""Hook specifications: the plugin author's reference.

Every hook's name starts with ``govern_``. Implement a hook by defining a function (or method)
of the same name decorated with ``govern.api.hookimpl``; take only the arguments you need, and
give them no default values (pluggy never passes a defaulted argument). Built-in plugins
(``govern.plugins.*``) implement these hooks exactly as third-party plugins do.

Hooks marked *firstresult* stop at the first implementation that returns something other than
``None``; use ``tryfirst``/``trylast`` on the ``hookimpl`` to take a place in that order. The
per-registry hooks, :func:`govern_discover_snapshots`, :func:`govern_exclusion`,
:func:`govern_delta_basis` and :func:`govern_snapshot`, are *dispatched by kind*: the plugin that declares the registry's kind is asked first (for
discovery, it alone). The others *collect* every implementation's return value.

``docs/plugins.md`` documents the same hooks for readers; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govern.host.markers import hookspec

if TYPE_CHECKING:
    from datetime import datetime

    import typer

    from govern.config.workspace import Registry, Workspace
    from govern.format.manifest import SealCheck
    from govern.format.models import CatalogEntry, Delta, Operation, RegistryKind, ReportSection, SourceVersion
    from govern.runs.views import RunView, Snapshot
    from govern.runtime.progress import Progress
    from govern.seal.sealing import SealResult


# --------------------------------------------------------------------------------------------
# Registry kinds and snapshots
# --------------------------------------------------------------------------------------------


@hookspec
def govern_registry_kinds() -> list[RegistryKind]:
    """Declare the registry kinds this plugin handles.

    Called once when the configuration is checked, and by ``govern registry list`` /
    ``govern plugins list``; each plugin's implementation is called on its own, so a kind is
    known to come from its plugin (two plugins declaring one kind name is an error naming
    both). A registry whose ``kind`` no plugin declares is a configuration error
    (E_CONFIG_UNKNOWN_KIND) naming the installed kinds.

    A registry's ``options`` table may hold only the options its kind declares
    (``RegistryKind.options``, name → meaning, plus any required ``options.NAME``): any other
    key is refused by ``govern registry add`` and when the configuration is checked, so a
    typo never passes. ``RegistryKind(name, summary)`` declares a kind with no options.
    Likewise a kind-specific registry-level key (``dsn``, ``pattern``, ``path``…) is accepted
    only on a registry whose kind names it in ``RegistryKind.keys`` (or requires it); a kind
    may name only such keys of ``RegistryConfig`` (any other is E_PLUGIN_FAILED).

    :returns: a list of :class:`govern.format.models.RegistryKind` (name, summary, required config
        keys, whether the kind is excluded from the delta log by design, declared options and keys).
    """


@hookspec(firstresult=True)
def govern_discover_snapshots(registry: Registry, workspace: Workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:
    """Find the snapshots of ``registry`` among ``runs``.

    Called by ``govern delta build`` (and ``govern registry``) once per registry. ``runs``
    are the candidate run folders, sorted by run id: on an incremental build only the runs
    not examined before, on a first build all of them; delta-log builds are never among them.
    Each :class:`~govern.runs.views.RunView` reads its seal once, however many registries ask.

    Return the runs that hold the registry's artifact, in run-id order, as
    :class:`~govern.runs.views.Snapshot` objects whose ``status`` says how far the evidence can
    be trusted (``sealed``, ``broken`` with a ``problem``, or ``unsealed``). The host decides
    what to do with broken and unsealed ones (stop, or record ``unknown`` with
    ``--allow-unknown``).

    Dispatched by kind: only the plugin that declares the registry's kind
    (:func:`govern_registry_kinds`) is called, whatever ``tryfirst`` or load order says;
    another plugin's answer (even ``[]``) is never consulted. A registry whose kind's plugin
    does not implement this hook, or returns ``None``, is reported as skipped.
    """


@hookspec(firstresult=True)
def govern_exclusion(registry: Registry, workspace: Workspace) -> str | None:
    """Say why ``registry`` is excluded from the delta log by design, or ``None``.

    Called for every configured registry before snapshot discovery. Kinds such as
    ``external`` (a database: no repo evidence), ``collection`` (many per-run seals, no single
    snapshot) and ``presentation`` (no delta semantics) return a reason — the configured
    ``reason`` if set, else the kind's default. Excluded registries are reported as
    *excluded by design*, never as skipped or failed.

    Dispatched by kind: only the plugin that declares the registry's kind is called, so no
    plugin can exclude (or keep in) a registry of a kind it does not declare. Stops at the
    first non-None result.
    """


@hookspec(firstresult=True)
def govern_delta_basis(registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
    """Compute the delta from ``before`` to ``after`` (``before`` is None for the bootstrap).

    Called once per new record. The built-in ``manifest_diff`` plugin answers when both
    snapshots are sealed and verified, with the added, removed and modified paths at or under
    the artifact; the built-in ``unknown_basis`` plugin (``trylast``) answers every other case
    with basis ``unknown`` and the reason. A plugin with a finer basis for its own kind (e.g.
    record keys of a JSONL artifact) returns its :class:`~govern.format.models.Delta`, or ``None`` to
    leave the record to the basis plugins.

    Dispatched by kind, the first non-None answer winning: first the plugin that declares the
    registry's kind (:func:`govern_registry_kinds`); then the *basis plugins* — those that
    declare no kind at all, such as ``manifest_diff`` (which serves every kind whose snapshots
    are sealed runs) and ``unknown_basis`` — in pluggy's order (``tryfirst``, ``trylast``). A
    plugin that declares other kinds is never asked about this registry; a basis for every
    kind therefore lives in a plugin of its own that declares no kind.

    A kind's plugin that finds the transition rewrites history (the built-in ``collection``:
    a member run re-sealed between two indexes) raises ``GovernError("E_HISTORY_CONFLICT", …)``:
    the build stops, or with ``--allow-unknown`` records the transition as ``unknown`` with
    that message as its reason.

    Every record a build plans is checked before anything is written: its basis must be
    declared (``govern_delta_bases``) and admitted by ``[workspace] record_version``, and the
    record valid against its version's schema; otherwise the build stops (exit 2) naming the
    plugin that answered.
    """


@hookspec(firstresult=True)
def govern_snapshot(registry: Registry, workspace: Workspace, clock: datetime, progress: Progress, op_id: str | None) -> Path | None:
    """Write one new sealed snapshot run of ``registry`` and return its folder, or ``None``.

    Called by ``govern snapshot REGISTRY`` (under the workspace lock) for kinds whose source
    is outside the runs root (``sql_table``: a database table; ``collection``: the set of its
    member runs sealed now, a collection index run), and by ``govern delta build
    --snapshot-collections`` for every configured collection whose members changed
    (:func:`govern_snapshot_due`). The run is named ``YYYY-MM-DD__HHMMSS__<registry id>`` from
    ``clock`` and its run.json names ``op_id`` (``--op``; None: the run names no operation).
    Write it into the workspace's runs root when that is local; on an ``s3://`` runs root
    write it into a local temporary folder (:func:`govern.runs.new_run.write_new_run` does
    either, sealed and atomic): the command publishes it. Report progress through
    ``progress``. Nothing may be left half-written when it raises
    :class:`govern.errors.GovernError`.

    Dispatched by kind: only the plugin that declares the registry's kind is called, and only
    for a kind declared with ``RegistryKind(..., snapshots=True)``; ``govern snapshot`` refuses
    other kinds (E_USAGE). Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def govern_source_versions(registry: Registry, workspace: Workspace, progress: Progress) -> list[SourceVersion] | None:
    """Read the versions of ``registry`` where they are kept, outside the runs root.

    For kinds whose snapshots are not run folders but versions in a format an archive already
    uses (``ocfl_object``: an OCFL object's versions; ``bagit``: bags; ``git``: commits on a
    ref's first-parent history). Return every version, oldest first, as
    :class:`govern.format.models.SourceVersion` objects — each with its logical state (path ->
    SHA-256), the pin that fixes it, and ``problem`` set when it does not validate (the build
    stops on it, or records ``unknown`` with that reason under ``--allow-unknown``). Return
    ``None`` when the kind is not such a kind. Report progress through ``progress``; raise
    :class:`govern.errors.GovernError` when the source cannot be read at all.

    Called by ``govern delta build`` (every build: a source is re-read, the plugin may cache
    what it has checked) and ``govern verify --log`` (recorded versions must still carry their
    pin and state). Dispatched by kind: only the plugin that declares the registry's kind is
    called. Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def govern_snapshot_due(registry: Registry, workspace: Workspace) -> bool | None:
    """Say whether a new snapshot of ``registry`` would hold something its latest one does not.

    Called by ``govern delta build --snapshot-collections`` before it asks
    :func:`govern_snapshot`, so that an unchanged source makes no new run (no empty churn).
    Return ``True`` (take one), ``False`` (the latest snapshot holds the same) or ``None``
    (the kind takes no snapshots).

    Dispatched by kind: only the plugin that declares the registry's kind is called. Stops at
    the first non-None result.
    """


@hookspec
def govern_delta_bases() -> list[str]:
    """Declare the delta bases this plugin's ``govern_delta_basis`` produces.

    Called by ``govern delta build`` before anything is written. Every record a build plans must have a declared basis: a basis no plugin declares
    stops the build (E_BASIS_UNDECLARED, exit 2, naming the plugin that answered), with
    nothing written. A basis is a name matching ``[a-z][a-z0-9_]*``. The built-ins declare
    ``manifest_diff`` and ``unknown``; record version 0.1 admits only those two, so a basis of
    your own needs ``[workspace] record_version = "0.2"`` (E_RECORD_INVALID otherwise).

    :returns: a list of basis names (several plugins may declare the same one).
    """


# --------------------------------------------------------------------------------------------
# Seals
# --------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def govern_seal(run_dir: Path, envelope: dict[str, Any], reseal: bool, progress: Progress) -> SealResult | None:
    """Write the seal of the run folder ``run_dir``.

    Called by ``govern seal`` and by every command that creates a run (the delta-log build).
    ``envelope`` is the run.json document to write if the run has none; its ``run_id`` is the
    run's id (which differs from ``run_dir``'s name while a run is being staged). ``reseal``
    allows replacing an existing seal (``govern seal`` has already refused it for a delta-log
    build or a recorded snapshot); replace it without leaving the run unsealed at any instant,
    as the built-in does. Report hashing progress in bytes through ``progress``.

    Raise :class:`govern.errors.GovernError` to refuse (nothing may be written then). Return a
    :class:`govern.seal.sealing.SealResult`.

    Stops at the first non-None result.
    """


@hookspec(firstresult=True)
def govern_verify_seal(run_dir: Path, deep: bool, progress: Progress) -> SealCheck | None:
    """Check the seal of ``run_dir``.

    With ``deep`` false, check only the seal file and the manifest's structure (what a build
    needs); with ``deep`` true, also every payload file's presence, size and SHA-256 (what
    ``govern verify`` does). Return a :class:`govern.format.manifest.SealCheck` listing every problem.

    Stops at the first non-None result.
    """


# --------------------------------------------------------------------------------------------
# Governance
# --------------------------------------------------------------------------------------------


@hookspec
def govern_operations() -> list[Operation]:
    """Declare the operations this plugin provides, for the allowed-operations catalog.

    Called by ``govern governance sync`` and ``govern governance check``. The delta-log
    plugin declares OP-QA11 "Registry Delta Log Build".

    :returns: a list of :class:`govern.format.models.Operation`.
    """


@hookspec
def govern_catalog_addenda(workspace: Workspace) -> list[CatalogEntry]:
    """Registries this plugin contributes to the registry catalog.

    Called by ``govern governance addendum``, ``sync`` and ``check``. Registries absent from
    a frozen catalog go into the addendum. The delta-log plugin contributes
    ``registry_delta_log`` (kind ``sealed``).

    :returns: a list of :class:`govern.format.models.CatalogEntry`.
    """


@hookspec
def govern_report_sections(report: str, context: dict[str, Any]) -> list[ReportSection]:
    """Add sections to a generated report.

    Called by ``govern report <report>`` with the report's name (``validation`` or
    ``completion``) and a read-only ``context`` of the figures the report is built from.
    Return :class:`govern.format.models.ReportSection` objects (or an empty list); every number in
    them must be derived from ``context`` or other evidence, never typed.
    """


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@hookspec
def govern_register_commands(app: typer.Typer) -> None:
    """Add commands to the ``govern`` command line.

    Called once while the CLI is built, before arguments are parsed, with the root
    :class:`typer.Typer` app (typer vendors click: never pass click objects around): use
    ``app.command()`` or ``app.add_typer()``. Commands get the invocation state from
    ``ctx.obj`` (:class:`govern.cli.state.CliState`) and report through
    ``ctx.obj.output.emit(data, lines, exit_code)``; they never print directly.

    Each plugin is called on its own. If it raises, adds a command typer cannot build, or
    adds a command whose name govern (or an earlier plugin) already has, everything it added
    is taken back and it is reported as one warning ("failed to add its commands"); the
    other plugins' commands stay. Nothing to return.
    """
