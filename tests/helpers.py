"""Helpers shared by the test suite: running the installed console script, building run
folders, sealing in-process, forging manifests and photographing trees.

Everything works on real files in temporary directories; nothing here mocks the filesystem.
Fixtures wrapping these live in ``conftest.py``; modules may also import them directly
(``from helpers import make_run``) — pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# The suite uses the same helpers it ships to plugin authors (govern.testing), under the
# names its tests were written with.
from govern.testing import DEFAULT_AT, govern_executable, invoke_cli, run_cli  # noqa: F401 (re-exported)
from govern.testing import CliResult as GovernResult
from govern.testing import isolated_environment as clean_env  # noqa: F401 (re-exported)
from govern.testing import make_run as _make_run

#: A well-formed run id for tests that need just one run.
RUN_ID = "2024-01-02__030405__test_run"

def run_govern(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> GovernResult:
    """Run ``govern ARGS``, isolated from the developer's ``GOVERN_*``/``SOURCE_DATE_EPOCH``:
    in this process (:func:`govern.testing.invoke_cli`: the same ``main``, environment and
    output — a process per command cost the suite minutes), or in a real subprocess when
    ``env`` arms a crash fault (which kills the process it fires in) or sets ``PYTHONPATH``
    (plugins installed for the command only: a process's imports). A test of what only a
    real process shows (the console script, exit by signal, stdin, a timeout, a fresh
    client cache) calls :func:`run_govern_process`."""
    if any(name.startswith("GOVERN_FAULT") or name == "PYTHONPATH" for name in env or {}):
        return run_govern_process(*args, cwd=cwd, env=env, timeout=timeout)
    return invoke_cli(*args, cwd=cwd, env=env)


def run_govern_process(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> GovernResult:
    """Run the installed ``govern`` console script in a real subprocess, isolated from the
    developer's ``GOVERN_*``/``SOURCE_DATE_EPOCH`` (the plugin authors' helper, :func:`govern.testing.run_cli`)."""
    return run_cli(*args, cwd=cwd, env=env, timeout=timeout)


def make_run(root: str | os.PathLike[str], run_id: str = RUN_ID, files: Mapping[str, bytes] | None = None) -> Path:
    """Create the run folder ``root/run_id`` holding ``files`` (relative path -> bytes)."""
    return _make_run(root, run_id, files or {})


def seal_in_process(
    run_dir: Path, *, at: str = DEFAULT_AT, op_id: str | None = None, reseal: bool = False
):
    """Seal ``run_dir`` through the library, as ``govern seal --at AT`` does (fast)."""
    from govern.format.envelope import make_envelope
    from govern.runtime.clock import parse_utc
    from govern.seal.sealing import seal_run

    envelope = make_envelope(Path(run_dir).name, op_id=op_id, clock=parse_utc(at))
    return seal_run(Path(run_dir), envelope=envelope, reseal=reseal)


def verify_in_process(run_dir: Path):
    """Deep-verify ``run_dir`` through the library; returns a :class:`govern.format.manifest.SealCheck`."""
    from govern.seal.verification import verify_run

    return verify_run(Path(run_dir))


def codes(check_or_problems) -> list[str]:
    """The sorted problem codes of a SealCheck, a GovernError or a list of problems."""
    problems = getattr(check_or_problems, "problems", check_or_problems)
    return sorted(problem.code for problem in problems)


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """manifest.json of a run, parsed."""
    return json.loads((Path(run_dir) / "manifest.json").read_bytes())


def pin_manifest(run_dir: Path, manifest_bytes: bytes) -> str:
    """Write ``manifest_bytes`` as manifest.json and a *correct* MANIFEST.sha256 for it.

    Used to forge hostile manifests whose seal still matches, so that the manifest checks
    themselves (not the seal check) are what a test exercises. Returns the new root hash.
    """
    run_dir = Path(run_dir)
    (run_dir / "manifest.json").write_bytes(manifest_bytes)
    root = sha256_hex(manifest_bytes)
    (run_dir / "MANIFEST.sha256").write_bytes(f"{root}  manifest.json\n".encode("ascii"))
    return root


def rewrite_manifest(run_dir: Path, mutate: Callable[[dict[str, Any]], Any]) -> str:
    """Parse manifest.json, let ``mutate`` change it in place, write it back and re-pin it.

    The manifest is written with ``json.dumps(indent=2)`` and *without* sorting keys or
    entries, so a test controls the order; returns the new root hash.
    """
    document = read_manifest(run_dir)
    mutate(document)
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return pin_manifest(run_dir, data)


def tree_state(root: str | os.PathLike[str]) -> dict[str, tuple]:
    """A photograph of everything under ``root`` (never following links).

    Maps each relative path (bytes, so undecodable names work too) to its kind and content:
    file bytes, link target, or just the kind for directories, FIFOs, sockets and devices.
    Two equal photographs mean nothing was created, removed or changed.
    """
    root_bytes = os.fsencode(root)
    state: dict[str, tuple] = {}
    for directory, dirnames, filenames in os.walk(root_bytes, followlinks=False):
        for name in dirnames + filenames:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, root_bytes)
            info = os.lstat(full)
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                state[relative] = ("link", os.readlink(full))
            elif stat.S_ISDIR(mode):
                state[relative] = ("dir",)
            elif stat.S_ISREG(mode):
                with open(full, "rb") as handle:
                    state[relative] = ("file", handle.read(), info.st_mtime_ns)
            else:
                state[relative] = ("special", stat.S_IFMT(mode))
    return state
