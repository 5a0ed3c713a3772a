"""A scratch workspace for delta-log tests: configure registries, lay down snapshots, build.

Shared by ``test_delta_build.py`` and ``test_verify_log.py``. Snapshots are sealed in-process
(fast); every ``govern`` command runs as the installed console script in a subprocess, since
exit codes, stderr and the files written are the contract under test. Every record read back
from a log is validated against the delta-log JSON Schema, so no test can produce a record that
is not schema-valid without failing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from helpers import GovernResult, make_run, run_govern, run_govern_process, seal_in_process, tree_state

REPO = Path(__file__).resolve().parent.parent
DELTA_LOG_SCHEMA = REPO / "schemas" / "REGISTRY_registry_delta_log_v0_1.schema.json"
LOG_NAME = "REGISTRY_DELTA_LOG_v0_1.jsonl"
BUILD_SUFFIX = "__registry_delta_log_build"
#: The clock snapshots are sealed with (their run ids carry their own order).
SEAL_AT = "2024-01-31T00:00:00Z"
POINTERS = "governance/ACTIVE_REGISTRY_POINTERS_v0_1.json"


def build_at(day: int, hour: int = 0) -> str:
    """A build clock in March 2024 (after every snapshot of these tests)."""
    return f"2024-03-{day:02d}T{hour:02d}:00:00Z"


def build_id(at: str) -> str:
    """The run id of a build at ``at``."""
    date, time = at.rstrip("Z").split("T")
    return f"{date}__{time.replace(':', '')}{BUILD_SUFFIX}"


def epoch(at: str) -> str:
    """``at`` as SOURCE_DATE_EPOCH."""
    moment = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return str(int(moment.timestamp()))


_VALIDATOR = None


def record_validator():
    """The Draft 2020-12 validator of the delta-log schema (format checking on).

    The schema is the contract of docs/delta-log.md ("Records"); a missing schema fails loudly rather than letting
    records go unchecked.
    """
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema

        if not DELTA_LOG_SCHEMA.is_file():
            pytest.fail(f"{DELTA_LOG_SCHEMA} does not exist: delta-log records cannot be schema-checked")
        schema = json.loads(DELTA_LOG_SCHEMA.read_bytes())
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return _VALIDATOR


def assert_schema_valid(records: list[dict[str, Any]]) -> None:
    """Every record is valid against the delta-log schema."""
    validator = record_validator()
    for index, record in enumerate(records):
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
        assert not errors, f"record {index} is not schema-valid: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors
        ) + f"\n{record}"


def parse_log(data: bytes) -> list[dict[str, Any]]:
    """The records of a log's bytes (one JSON object per line), schema-checked."""
    assert data == b"" or data.endswith(b"\n"), "a log ends with a complete line"
    records = [json.loads(line) for line in data.splitlines()]
    assert_schema_valid(records)
    return records


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DeltaWorkspace:
    """A workspace in a temporary directory, and the moves a delta-log test makes on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / ".codex" / "RUNS"

    @classmethod
    def create(
        cls,
        root: Path,
        registries: Mapping[str, Mapping[str, Any]],
        *,
        active_pointers: Mapping[str, str] | None = None,
    ) -> DeltaWorkspace:
        """A workspace at ``root`` configuring ``registries`` (id -> table)."""
        from govern.governance.scaffold import init_workspace

        init_workspace(root)
        workspace = cls(root)
        settings: dict[str, Any] = {"runs_root": ".codex/RUNS", "delta_log_artifact": LOG_NAME}
        if active_pointers is not None:
            settings["active_pointers"] = POINTERS
            workspace.set_pointers(active_pointers)
        config = {"workspace": settings, "plugins": {"disable": []}, "registries": dict(registries)}
        (root / "registry_config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
        return workspace

    def copy(self, destination: Path) -> DeltaWorkspace:
        """A byte-for-byte copy of the whole workspace at ``destination``."""
        shutil.copytree(self.root, destination, symlinks=True)
        return DeltaWorkspace(destination)

    def set_pointers(self, pointers: Mapping[str, str]) -> None:
        """Write the active-pointers file (registry id -> active run id)."""
        path = self.root / POINTERS
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pointers": dict(pointers)}, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    # ------------------------------------------------------------------ snapshots

    def run(self, run_id: str, files: Mapping[str, bytes | str], *, seal: bool = True) -> Path:
        """A run folder holding ``files``, sealed unless ``seal`` is False."""
        encoded = {path: data.encode("utf-8") if isinstance(data, str) else data for path, data in files.items()}
        run_dir = make_run(self.runs, run_id, encoded)
        if seal:
            seal_in_process(run_dir, at=SEAL_AT)
        return run_dir

    def reseal(self, run_id: str) -> str:
        """Re-seal a run in-process (as ``govern seal --reseal``); its new ROOT_SHA256."""
        return seal_in_process(self.runs / run_id, at=SEAL_AT, reseal=True).root_sha256

    def root_sha256(self, run_id: str) -> str:
        """A run's ROOT_SHA256 as its MANIFEST.sha256 pins it."""
        return (self.runs / run_id / "MANIFEST.sha256").read_text(encoding="ascii").split()[0]

    # ------------------------------------------------------------------ commands

    def govern(self, *args: str, env: Mapping[str, str] | None = None, subprocess: bool = False) -> GovernResult:
        """``govern -C ROOT ARGS…``: in this process (the same ``main``, environment isolation
        and output; a subprocess per command would cost the suite minutes), or in a real
        subprocess when ``subprocess`` is asked or ``env`` arms a crash fault (which kills the
        process it fires in)."""
        if subprocess:
            return run_govern_process("-C", self.root, *args, env=env)
        return run_govern("-C", self.root, *args, env=env)

    def build(self, *args: str, at: str | None = None, env: Mapping[str, str] | None = None) -> GovernResult:
        """``govern delta build [--at AT] ARGS…``."""
        clock = ("--at", at) if at is not None else ()
        return self.govern("delta", "build", *clock, *args, env=env)

    def build_ok(self, *args: str, at: str) -> GovernResult:
        """A build that must succeed."""
        result = self.build(*args, at=at)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    # ------------------------------------------------------------------ reading back

    def builds(self) -> list[str]:
        """Every build run id, oldest first."""
        if not self.runs.is_dir():
            return []
        return sorted(p.name for p in self.runs.iterdir() if p.is_dir() and p.name.endswith(BUILD_SUFFIX))

    def log_bytes(self, build: str | None = None) -> bytes:
        """A build's log (default: the latest build's)."""
        name = build or self.builds()[-1]
        return (self.runs / name / LOG_NAME).read_bytes()

    def records(self, build: str | None = None) -> list[dict[str, Any]]:
        """A build's records (default: the latest build's), schema-checked."""
        return parse_log(self.log_bytes(build))

    def envelope(self, build: str | None = None) -> dict[str, Any]:
        """A build's run.json."""
        name = build or self.builds()[-1]
        return json.loads((self.runs / name / "run.json").read_bytes())

    def photograph(self) -> dict:
        """Everything under the runs root except the lock file (which a build may create)."""
        state = tree_state(self.runs)
        return {path: value for path, value in state.items() if os.path.basename(path) != b".govern.lock"}

    def photograph_all(self) -> dict:
        """Everything under the workspace, the lock file included."""
        return tree_state(self.root)


def transitions(records: list[dict[str, Any]], registry_id: str) -> list[tuple[str | None, str]]:
    """(from run id, to run id) of a registry's records, in log order."""
    return [
        (None if r["from_ref"] is None else r["from_ref"]["run_id"], r["to_ref"]["run_id"])
        for r in records
        if r["registry_id"] == registry_id
    ]


def assert_refused(result: GovernResult, code: str, *mentions: str, exit_code: int = 1) -> None:
    """The command failed with ``exit_code`` and one ``govern: error: CODE: …`` line naming ``mentions``."""
    assert result.returncode == exit_code, result.stdout + result.stderr
    errors = [line for line in result.stderr_lines if line.startswith("govern: error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"govern: error: {code}: "), result.stderr
    for mention in mentions:
        assert mention in errors[0], f"{mention!r} not named in: {errors[0]}"
    assert "Traceback" not in result.stderr
