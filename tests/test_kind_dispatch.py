"""Issue 12 point 3: the plugin host dispatches discovery, exclusion and the delta basis by kind.

``govern_discover_snapshots`` and ``govern_delta_basis`` are *firstresult* hooks; the host
used to take the first plugin that answered. A third-party plugin returning ``[]`` (instead of
``None``) for registries that are not its own silently hid every snapshot of the built-in
``sealed`` kind. Now a registry's snapshots come only from the plugin that declares its kind
(``govern_registry_kinds``), and its delta from that plugin first, then from the plugins that
declare no kind (``manifest_diff``, the ``trylast`` ``unknown`` fallback, …). Plugins are
registered as objects, in-process (``govern.testing``); the pip-installed path is in
tests/test_example_plugin.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from govern import hookimpl
from govern.config.workspace import Registry, RegistryConfig
from govern.format.models import Delta, RegistryKind
from govern.runs.snapshots import discover_artifact_snapshots
from govern.runs.views import RunView, Snapshot
from govern.testing import ScratchWorkspace, plugin_host

ARTIFACT = "RUN_REGISTRY_v0_1.jsonl"
OWN_ARTIFACT = "ROWS.jsonl"
FIRST = "2024-01-01__000000__first"
SECOND = "2024-01-02__000000__second"
BUILD_AT = "2024-02-01T00:00:00Z"


class DiscoversNothing:
    """The issue's plugin: declares its own kind, but answers ``[]`` for every registry."""

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        return [RegistryKind("acme_db", "a kind of the acme plugin")]

    @hookimpl
    def govern_discover_snapshots(self, registry, workspace, runs) -> list[Snapshot]:  # noqa: ANN001
        return []


class DiscoversNothingFirst(DiscoversNothing):
    """The same, asking pluggy to be called before every other plugin."""

    @hookimpl(tryfirst=True)
    def govern_discover_snapshots(self, registry, workspace, runs) -> list[Snapshot]:  # noqa: ANN001
        return []


class DeclaresNoKind:
    """Answers ``[]`` for every registry without declaring any kind."""

    @hookimpl(tryfirst=True)
    def govern_discover_snapshots(self, registry, workspace, runs) -> list[Snapshot]:  # noqa: ANN001
        return []


class Greedy:
    """Declares kind ``acme_rows`` and answers both hooks for *every* registry.

    For its own registries it finds the runs holding the artifact and marks its deltas with an
    ``ARTIFACT#acme`` entry; for any other registry its answers are wrong on purpose, so that
    a test sees whether they were taken.
    """

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        return [RegistryKind("acme_rows", "rows in sealed runs", requires=("artifact",))]

    @hookimpl(tryfirst=True)
    def govern_discover_snapshots(self, registry: Registry, workspace, runs: Sequence[RunView]) -> list[Snapshot]:  # noqa: ANN001
        artifact = registry.config.artifact or OWN_ARTIFACT
        found = discover_artifact_snapshots(registry.id, artifact, runs)
        return found if registry.kind == "acme_rows" else found[:1]

    @hookimpl(tryfirst=True)
    def govern_delta_basis(self, registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta:
        return Delta("manifest_diff", added=[f"{registry.config.artifact}#acme"])


class Excluder:
    """Declares kind ``acme_db`` and answers ``govern_exclusion`` for *every* registry, first."""

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        return [RegistryKind("acme_db", "a database of the acme plugin")]

    @hookimpl(tryfirst=True)
    def govern_exclusion(self, registry: Registry, workspace) -> str:  # noqa: ANN001
        return f"excluded by acme ({registry.kind})"


class AbstainingKind:
    """Declares kind ``acme_rows`` and discovers its runs, but computes no delta of its own."""

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        return [RegistryKind("acme_rows", "rows in sealed runs", requires=("artifact",))]

    @hookimpl
    def govern_discover_snapshots(self, registry: Registry, workspace, runs: Sequence[RunView]) -> list[Snapshot] | None:  # noqa: ANN001
        if registry.kind != "acme_rows":
            return None
        assert registry.config.artifact is not None
        return discover_artifact_snapshots(registry.id, registry.config.artifact, runs)

    @hookimpl(tryfirst=True)
    def govern_delta_basis(self, registry: Registry, before: Snapshot | None, after: Snapshot) -> Delta | None:
        return None


@pytest.fixture
def ws(tmp_path: Path) -> ScratchWorkspace:
    """A built-in ``sealed`` registry with two sealed snapshots, not built yet."""
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"run_registry": {"kind": "sealed", "artifact": ARTIFACT}})
    workspace.run(FIRST, {ARTIFACT: '{"run_id": "a"}\n', OWN_ARTIFACT: '{"row": 1}\n'})
    workspace.run(SECOND, {ARTIFACT: '{"run_id": "a"}\n{"run_id": "b"}\n', OWN_ARTIFACT: '{"row": 2}\n'})
    return workspace


def records_by_registry(ws: ScratchWorkspace) -> dict[str, list[tuple[str, str, list[str], list[str]]]]:
    """registry id -> (to run, basis, added paths, modified paths) of each record, in log order."""
    found: dict[str, list[tuple[str, str, list[str], list[str]]]] = {}
    for record in ws.log_records():
        found.setdefault(record["registry_id"], []).append(
            (record["to_ref"]["run_id"], record["delta_basis"], record["added_paths"], record["modified_paths"])
        )
    return found


SEALED_RECORDS = [
    (FIRST, "manifest_diff", [ARTIFACT], []),
    (SECOND, "manifest_diff", [], [ARTIFACT]),
]


# ---------------------------------------------------------------------------- the scenario


@pytest.mark.parametrize("plugin", [DiscoversNothing(), DiscoversNothingFirst(), DeclaresNoKind()], ids=type)
def test_a_plugin_discovering_nothing_for_every_registry_hides_no_sealed_snapshot(ws: ScratchWorkspace, plugin: object):
    built = ws.cli("--json", "delta", "build", "--at", BUILD_AT, plugins={"acme": plugin})
    assert built.returncode == 0, built.stdout + built.stderr
    assert records_by_registry(ws) == {"run_registry": SEALED_RECORDS}
    listed = ws.cli("--json", "registry", "list", plugins={"acme": plugin})
    assert listed.returncode == 0, listed.stderr
    registries = listed.json()["result"]["registries"]
    assert [(r["registry_id"], r["status"]) for r in registries] == [("run_registry", "covered")]
    verified = ws.cli("verify", "--log", plugins={"acme": plugin})
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_plugin_answering_govern_exclusion_for_every_registry_does_not_exclude_a_sealed_one(ws: ScratchWorkspace):
    ws.add_registry("threshold_db", kind="external", reason="lives in a database")
    ws.add_registry("acme", kind="acme_db")
    plugins = {"excluder": Excluder()}
    built = ws.cli("--json", "delta", "build", "--at", BUILD_AT, plugins=plugins)
    assert built.returncode == 0, built.stdout + built.stderr
    assert records_by_registry(ws) == {"run_registry": SEALED_RECORDS}
    listed = ws.cli("--json", "registry", "list", plugins=plugins)
    assert listed.returncode == 0, listed.stderr
    statuses = {r["registry_id"]: (r["status"], r.get("reason")) for r in listed.json()["result"]["registries"]}
    assert statuses["run_registry"][0] == "covered"
    # Each kind's own plugin still answers for its registries: the built-in for ``external``
    # (its configured reason, not the third party's), the third party for its own kind.
    assert statuses["threshold_db"] == ("excluded", "lives in a database")
    assert statuses["acme"] == ("excluded", "excluded by acme (acme_db)")


# ---------------------------------------------------------------------------- only the kind's plugin is asked


def test_a_plugin_answering_for_a_kind_it_does_not_declare_is_ignored_and_its_own_kind_still_works(ws: ScratchWorkspace):
    ws.add_registry("rows", kind="acme_rows", artifact=OWN_ARTIFACT)
    built = ws.cli("delta", "build", "--at", BUILD_AT, plugins={"greedy": Greedy()})
    assert built.returncode == 0, built.stdout + built.stderr
    assert records_by_registry(ws) == {
        # Greedy's answers for the sealed registry (one snapshot, an ARTIFACT#acme path) are not taken.
        "run_registry": SEALED_RECORDS,
        # For its own kind they are: every snapshot it found, with its own delta.
        "rows": [
            (FIRST, "manifest_diff", [f"{OWN_ARTIFACT}#acme"], []),
            (SECOND, "manifest_diff", [f"{OWN_ARTIFACT}#acme"], []),
        ],
    }


def _registry(registry_id: str, kind: str, artifact: str) -> Registry:
    return Registry(registry_id, RegistryConfig(kind=kind, artifact=artifact))


def test_the_host_names_the_kinds_plugin_as_the_one_that_answered(ws: ScratchWorkspace):
    host = plugin_host(("greedy", Greedy()))
    workspace = ws.load()
    runs = [RunView(ws.runs_root / FIRST), RunView(ws.runs_root / SECOND)]
    sealed, rows = _registry("run_registry", "sealed", ARTIFACT), _registry("rows", "acme_rows", OWN_ARTIFACT)
    assert [s.run_id for s in host.discover_snapshots(sealed, workspace, runs)] == [FIRST, SECOND]
    assert [s.run_id for s in host.discover_snapshots(rows, workspace, runs)] == [FIRST, SECOND]
    first = host.discover_snapshots(sealed, workspace, runs)[0]
    delta, answered = host.answered_delta_basis(sealed, None, first)
    assert (delta.basis, delta.added, answered) == ("manifest_diff", (ARTIFACT,), "manifest_diff")
    own_first = host.discover_snapshots(rows, workspace, runs)[0]
    delta, answered = host.answered_delta_basis(rows, None, own_first)
    assert (delta.added, answered) == ((f"{OWN_ARTIFACT}#acme",), "greedy")


def test_a_kind_whose_plugin_discovers_nothing_is_skipped_whatever_other_plugins_answer(ws: ScratchWorkspace):
    class KindOnly:
        @hookimpl
        def govern_registry_kinds(self) -> list[RegistryKind]:
            return [RegistryKind("greeting", "a kind nobody discovers")]

    host = plugin_host(("kind_only", KindOnly()), ("greedy", Greedy()))
    runs = [RunView(ws.runs_root / FIRST)]
    assert host.discover_snapshots(_registry("hello", "greeting", ARTIFACT), ws.load(), runs) is None


def test_when_the_kinds_plugin_abstains_the_generic_bases_answer(ws: ScratchWorkspace):
    host = plugin_host(("abstainer", AbstainingKind()))
    rows = _registry("rows", "acme_rows", OWN_ARTIFACT)
    runs = [RunView(ws.runs_root / FIRST), RunView(ws.runs_root / SECOND)]
    first, second = host.discover_snapshots(rows, ws.load(), runs)
    delta, answered = host.answered_delta_basis(rows, first, second)
    assert (delta.basis, delta.modified, answered) == ("manifest_diff", (OWN_ARTIFACT,), "manifest_diff")
    unsealed = Snapshot("rows", RunView(ws.runs_root / SECOND), OWN_ARTIFACT, "unsealed", "no seal")
    delta, answered = host.answered_delta_basis(rows, first, unsealed)
    assert (delta.basis, answered) == ("unknown", "unknown_basis")


def test_a_plugin_loaded_later_that_declares_the_kind_is_dispatched_to(ws: ScratchWorkspace):
    # The host remembers who declares each kind; registering a plugin must not leave it stale.
    host = plugin_host()
    rows = _registry("rows", "acme_rows", OWN_ARTIFACT)
    runs = [RunView(ws.runs_root / FIRST)]
    assert host.discover_snapshots(rows, ws.load(), runs) is None
    host.register(Greedy(), "greedy", "test plugin")
    assert [s.run_id for s in host.discover_snapshots(rows, ws.load(), runs)] == [FIRST]
    host.unregister("greedy")
    assert host.discover_snapshots(rows, ws.load(), runs) is None
