"""``govern init``: the starter workspace, written so that a crash leaves nothing half-made."""

from __future__ import annotations

from pathlib import Path

from govern import interrupts
from govern.atomic import write_atomic
from govern.clock import resolve_clock
from govern.config import CONFIG_NAME
from govern.errors import GovernError
from govern.governance.defaults import write_starter_books

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


def init_workspace(directory: Path) -> list[str]:
    """Scaffold a workspace in ``directory``; return what was created (relative paths).

    The config file is written last: until it exists the directory is not a workspace, so an
    interrupted init can simply be run again.
    """
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
        write_atomic(config, STARTER_CONFIG.encode("utf-8"))
        created.append(CONFIG_NAME)
    return created
