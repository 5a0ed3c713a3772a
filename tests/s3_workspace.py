"""A scratch workspace whose runs root is a fresh prefix of the test session's SeaweedFS.

Snapshots are made and sealed in a local folder of the workspace (a run is made on a disk),
then published to the bucket through the library's publish; commands run in-process
(:func:`govern.testing.invoke_cli`) with the server's AWS variables. What is in the bucket is
read back through an :class:`~govern.store.s3.S3Store` of the same prefix — never through the
code under test's own listing of runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from govern.testing import CliResult, invoke_cli
from helpers import make_run, seal_in_process
from seaweedfs import SeaweedFS, storage_table

LOG_NAME = "REGISTRY_DELTA_LOG_v0_1.jsonl"
#: The clock snapshots are sealed with (their run ids carry their own order).
SEAL_AT = "2024-01-31T00:00:00Z"


class S3Workspace:
    """A workspace at ``root`` whose runs root is ``s3://bucket/<prefix>`` on ``server``."""

    def __init__(self, root: Path, server: SeaweedFS, prefix: str) -> None:
        self.root = root
        self.server = server
        self.prefix = prefix
        self.url = server.url(prefix)
        #: Where snapshots are made and sealed before they are published.
        self.local_runs = root / "local-runs"
        self._store = None

    @classmethod
    def create(cls, root: Path, server: SeaweedFS, registries: Mapping[str, Mapping[str, Any]]) -> S3Workspace:
        """A workspace at ``root`` configuring ``registries`` (id -> table), its runs root a
        fresh prefix of ``server``'s bucket."""
        from govern.governance.scaffold import init_workspace

        init_workspace(root)
        workspace = cls(root, server, server.fresh_prefix("ws"))
        config = {"workspace": {"runs_root": workspace.url, "delta_log_artifact": LOG_NAME}, "registries": dict(registries)}
        (root / "registry_config.toml").write_text(tomli_w.dumps(config) + storage_table(server), encoding="utf-8")
        return workspace

    @property
    def environ(self) -> dict[str, str]:
        """The environment a command against the server needs (its AWS variables)."""
        return self.server.environ()

    def open(self, url: str):
        """A store over another location ``s3://bucket/prefix`` of the same server, opened with
        the workspace's ``[storage]`` options and the server's credentials."""
        from govern.config.workspace import load_workspace
        from govern.runtime import environment
        from govern.store.factory import open_store

        with environment.binding(self.environ):
            return open_store(url, relative_to=self.root, storage=load_workspace(explicit=self.root).config.storage)

    @property
    def store(self):
        """An S3Store over the runs root, opened the way a command opens it."""
        if self._store is None:
            self._store = self.open(self.url)
        return self._store

    def sealed_run(self, run_id: str, files: Mapping[str, bytes | str]) -> Path:
        """A run folder made and sealed locally (not published)."""
        encoded = {path: data.encode("utf-8") if isinstance(data, str) else data for path, data in files.items()}
        run_dir = make_run(self.local_runs, run_id, encoded)
        seal_in_process(run_dir, at=SEAL_AT)
        return run_dir

    def publish(self, run_id: str, files: Mapping[str, bytes | str]) -> str:
        """A run sealed locally and published to the runs root; its run id."""
        from govern.runs.publishing import publish_sealed_run
        from govern.runs.run_store import RunStore

        publish_sealed_run(self.sealed_run(run_id, files), RunStore(self.store))
        return run_id

    def govern(self, *args: str, env: Mapping[str, str] | None = None) -> CliResult:
        """``govern -C ROOT ARGS…`` in this process, against the server."""
        return invoke_cli("-C", self.root, *args, env={**self.environ, **(env or {})})

    # ------------------------------------------------------------------ reading the bucket

    def run_names(self) -> list[str]:
        """Every run id with at least one object in the bucket (``_log`` aside), sorted."""
        return sorted({key.split("/", 1)[0] for key, _ in self.store.list() if not key.startswith("_log/")})

    def objects(self, run_id: str) -> dict[str, bytes]:
        """Every object of a run in the bucket: relative path -> bytes."""
        return {key.split("/", 1)[1]: self.store.get(key) for key, _ in self.store.list(run_id + "/")}

    def log_records(self, build: str) -> list[dict]:
        """The records of a build's log, read from the bucket."""
        return [json.loads(line) for line in self.store.get(f"{build}/{LOG_NAME}").splitlines()]
