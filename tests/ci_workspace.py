"""A small workspace as a repository using govern in CI would keep it (docs/ci.md): shared by
``test_ci_docs.py`` (the workflow's commands) and ``test_pre_commit_hooks.py`` (the hooks)."""

from __future__ import annotations

import json
from pathlib import Path

from delta_workspace import DeltaWorkspace, build_at

#: The two sealed snapshots of the workspace's registry, oldest first.
FIRST, SECOND = "2024-01-02__030405__ingest", "2024-01-03__030405__ingest"
#: The registry's schema: every record has a string ``run_id``.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["run_id"],
    "properties": {"run_id": {"type": "string"}},
}


def ci_workspace(root: Path) -> DeltaWorkspace:
    """A registry with a schema, two sealed snapshots, a delta-log build and the governance
    books synced (so ``govern check`` has records to judge and books that agree)."""
    workspace = DeltaWorkspace.create(
        root, {"run_registry": {"kind": "sealed", "artifact": "RUN_REGISTRY.jsonl", "schema": "schemas/run_registry.schema.json"}}
    )
    (workspace.root / "schemas" / "run_registry.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    workspace.run(FIRST, {"RUN_REGISTRY.jsonl": '{"run_id": "a"}\n', "notes.txt": "first\n"})
    workspace.run(SECOND, {"RUN_REGISTRY.jsonl": '{"run_id": "a"}\n{"run_id": "b"}\n', "notes.txt": "second\n"})
    workspace.build_ok(at=build_at(5))
    synced = workspace.govern("governance", "sync")  # the registry and OP-QA11 catalogued: the books agree
    assert synced.returncode == 0, synced.stdout + synced.stderr
    return workspace
