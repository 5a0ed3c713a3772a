"""Shared fixtures. Helpers they wrap are in ``tests/helpers.py`` (importable directly)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import RUN_ID, GovernResult
from helpers import make_run as _make_run
from helpers import run_govern as _run_govern


@pytest.fixture
def run_govern() -> Callable[..., GovernResult]:
    """``run_govern(*args, cwd=None, env=None)`` -> ``(returncode, stdout, stderr)``.

    Runs the installed ``govern`` console script in a real subprocess with a clean
    environment (no GOVERN_* or SOURCE_DATE_EPOCH from the developer's shell).
    """
    return _run_govern


@pytest.fixture
def make_run() -> Callable[..., Path]:
    """``make_run(root, run_id, files)`` -> the new run folder ``root/run_id``."""
    return _make_run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh workspace (``govern init`` done) in a temporary directory.

    Made with :func:`govern.governance.scaffold.init_workspace`, the function ``govern init`` runs,
    to keep hundreds of tests fast; ``test_cli_contract`` tests the command itself.
    """
    from govern.governance.scaffold import init_workspace

    root = tmp_path / "ws"
    init_workspace(root)
    return root


@pytest.fixture
def runs_root(workspace: Path) -> Path:
    """The runs root of :func:`workspace` (``.codex/RUNS``, as ``govern init`` writes it)."""
    from govern.config.workspace import load_workspace

    return load_workspace(explicit=workspace).runs_root


@pytest.fixture
def sample_files() -> dict[str, bytes]:
    """A small payload with nesting, an empty file, binary and non-ASCII names."""
    return {
        "report.md": b"# report\n",
        "data/values.csv": b"a,b\n1,2\n",
        "data/empty.bin": b"",
        "data/blob.bin": bytes(range(256)),
        "d\u00e9j\u00e0 vu/notes.txt": "caf\u00e9\n".encode(),
    }


@pytest.fixture
def sealed_run(runs_root: Path, sample_files: dict[str, bytes]) -> Path:
    """A run in the workspace, sealed in-process at the default test clock."""
    from helpers import seal_in_process

    run_dir = _make_run(runs_root, RUN_ID, sample_files)
    seal_in_process(run_dir)
    return run_dir


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory):
    """A real S3-compatible server (SeaweedFS ``weed mini``) on 127.0.0.1 for this session
    (this xdist worker); see ``scripts/seaweedfs.py``. Give each test its own prefix:
    ``seaweedfs.fresh_prefix()``."""
    from seaweedfs import running_seaweedfs

    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (``initdb`` in a temporary folder, a Unix socket and a free
    port on 127.0.0.1) for this session (this xdist worker); see ``tests/postgres.py``. Give
    each test its own database: ``postgres.fresh_database()``."""
    from postgres import running_postgres

    with running_postgres() as server:
        yield server
