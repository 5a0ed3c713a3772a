"""``govern init``: the starter workspace, written so that a crash leaves nothing half-made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from govern.config.workspace import CONFIG_NAME, Workspace, parse_config
from govern.errors import GovernError
from govern.governance.defaults import write_starter_books
from govern.runtime import interrupts
from govern.runtime.clock import resolve_clock
from govern.store.atomic import write_atomic

if TYPE_CHECKING:
    from govern.governance.sync import SyncPlan
    from govern.host.manager import PluginHost

STARTER_CONFIG = '''\
# govern workspace configuration — see docs/configuration.md.
# Unknown keys are errors, so a typo never passes silently.

[workspace]
# Where run folders (YYYY-MM-DD__HHMMSS__slug) live, relative to this file.
runs_root = ".codex/RUNS"
# The file name of the delta log inside each delta-log build run.
delta_log_artifact = "REGISTRY_DELTA_LOG_v0_1.jsonl"
# Optional: JSON file mapping registry id -> run_id of its active snapshot.
# active_pointers = "governance/ACTIVE_REGISTRY_POINTERS_v0_1.json"
# Version of the delta records a build writes: "0.1", or "0.2" for delta bases plugins
# declare (docs/delta-log.md). A log moves from 0.1 to 0.2, never back.
# record_version = "0.1"

[plugins]
# Plugin names not to load (also GOVERN_DISABLE_PLUGINS=a,b).
disable = []

# One table per registry. Built-in kinds: sealed, external, collection, presentation.
#
# [registries.run_registry]
# kind = "sealed"
# artifact = "RUN_REGISTRY_v0_1.jsonl"     # file or folder inside a run that makes it a snapshot
# schema = "schemas/REGISTRY_run_registry_v0_1.schema.json"   # optional, for `govern validate`
#
# [registries.threshold_registry_db]
# kind = "external"
# reason = "External database — cannot compute manifest diffs from repo evidence"
'''


@attrs.frozen
class Scaffold:
    """What ``govern init`` made: the paths created, and what the books took from the plugins."""

    created: tuple[str, ...]
    operations_synced: tuple[str, ...] = ()
    registries_synced: tuple[str, ...] = ()


def init_workspace(directory: Path, host: PluginHost | None = None) -> list[str]:
    """Scaffold a workspace in ``directory``; return what was created (relative paths).

    The config file is written last: until it exists the directory is not a workspace, so an
    interrupted init can simply be run again. With ``host``, the starter books are then
    brought in sync with its plugins (see :func:`scaffold_workspace`).
    """
    return list(scaffold_workspace(directory, host).created)


def scaffold_workspace(directory: Path, host: PluginHost | None = None) -> Scaffold:
    """Scaffold a workspace in ``directory`` (as :func:`init_workspace`); with ``host``, the
    starter books are synced with the installed plugins, as ``govern governance sync`` would —
    so a fresh workspace's reports and ``governance check`` do not fail on what govern itself
    brings (OP-QA11, ``registry_delta_log``) — before the config file makes it a workspace."""
    directory = Path(directory)
    config = directory / CONFIG_NAME
    if config.exists():
        raise GovernError("E_WORKSPACE_EXISTS", f"{config}: a workspace already exists here; not overwriting it")
    if directory.exists() and not directory.is_dir():
        raise GovernError("E_NOT_A_DIRECTORY", f"{directory}: exists and is not a directory")
    created: list[str] = []
    clock = resolve_clock()
    # A handful of small files: an interrupt waits for all of them, then says they were written.
    with interrupts.commit_point():
        for relative in ("governance", "schemas", ".codex/RUNS"):
            path = directory / relative
            if not path.exists():
                created.append(relative + "/")
            path.mkdir(parents=True, exist_ok=True)
        # The starting governance books (docs/governance.md), dated by the clock like all output.
        created.extend(f"governance/{p}" for p in write_starter_books(directory / "governance", clock))
        synced = _sync_starter_books(directory, host, clock) if host is not None else None
        write_atomic(config, STARTER_CONFIG.encode("utf-8"))
        created.append(CONFIG_NAME)
    if synced is None or synced.update.empty:
        return Scaffold(tuple(created))
    return Scaffold(
        tuple(created),
        tuple(op.op_id for op in synced.operations),
        tuple(item.entry.registry_id for item in synced.registries),
    )


def _sync_starter_books(directory: Path, host: PluginHost, clock: dt.datetime) -> SyncPlan:
    """``governance sync`` on the new books, all-or-nothing. No lock is taken: until its
    config file exists no other govern command can open this workspace."""
    from govern.governance.store import load_books, write_documents
    from govern.governance.sync import plan_sync
    from govern.governance.transaction import recover

    workspace = Workspace(directory, parse_config(STARTER_CONFIG, directory / CONFIG_NAME))
    governance_dir = workspace.governance_dir
    recover(governance_dir)  # an init interrupted mid-sync: complete or undo that change first
    plan = plan_sync(load_books(governance_dir), workspace, host, clock)
    if not plan.update.empty:
        write_documents(governance_dir, list(plan.update.documents))
    return plan
