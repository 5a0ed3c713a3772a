"""The bad-input catalogue: one fixture directory per case, run by one parametrised test.

Layout (in the spirit of OCFL's ``fixtures/1.1/bad-objects/E023_extra_file``)::

    tests/fixtures/bad/<CODE>_<name>/      CODE: the error code expected, or OK for a case
        case.toml                           govern must handle without an error
        tree/        (optional)             files copied as the case's root (stored in git)
        prepare.py   (optional)             prepare(root, kit): what git cannot hold — FIFOs,
                                            sockets, symlinks, odd names, unreadable files,
                                            delta-log histories; may return a cleanup callable

``case.toml`` keys:

``description``   what the case is
``command``       govern's arguments; run in the case's root; ``{root}`` is replaced by it
``exit``          the expected exit code
``code``          the error code that must appear in the ``--json`` document ("" for none)
``message``       texts that must appear in it (e.g. the file, the line and column)
``seal``/``pin``  run folders to seal in-process / whose MANIFEST.sha256 to compute from the
                  stored manifest.json (so hand-written hostile manifests need no hashing by hand)
``env``           extra environment (``{root}`` is replaced)
``unchanged``     the command leaves every file as it was (default: true when ``exit`` != 0)
``absent``        paths that must not exist afterwards (e.g. removed debris)
``then``          further commands that must exit 0 afterwards (e.g. ``verify --all --log``)
``unprivileged``  run without the capabilities that let root read any file (via ``setpriv``)
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import clean_env, govern_executable, pin_manifest, run_govern, seal_in_process, tree_state
from reliability_workspace import ReliabilityWorkspace, clock

FIXTURES = Path(__file__).parent / "fixtures" / "bad"
CASES = sorted(path for path in FIXTURES.iterdir() if path.is_dir() and not path.name.startswith(("_", ".")))
KEYS = {
    "description", "command", "exit", "code", "message", "seal", "pin", "env", "unchanged", "absent", "then", "unprivileged",
}


class Kit:
    """What a ``prepare.py`` may use: in-process sealing and delta-log building (fast)."""

    clock = staticmethod(clock)

    @staticmethod
    def seal(run_dir: Path, *, reseal: bool = False) -> None:
        """Seal ``run_dir`` (``reseal``: replace its seal), as ``govern seal`` does."""
        seal_in_process(run_dir, reseal=reseal)

    @staticmethod
    def pin(run_dir: Path) -> None:
        """Write a MANIFEST.sha256 matching the run's current manifest.json."""
        pin_manifest(run_dir, (run_dir / "manifest.json").read_bytes())

    @staticmethod
    def workspace(root: Path, registries: int = 1) -> ReliabilityWorkspace:
        """A workspace in ``root`` with registries ``reg_0…`` (``add_snapshot(step)`` adds a run)."""
        return ReliabilityWorkspace(root, registries)

    @staticmethod
    def build(ws: ReliabilityWorkspace, step: int) -> Path:
        """A delta-log build at clock ``step``, written in-process; returns its folder."""
        from govern.log.build import plan_build, write_build

        at = dt.datetime.strptime(clock(step), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        plan = plan_build(ws.workspace(), ws.host(), clock=at)
        assert plan.records, "nothing to build"
        write_build(plan, ws.workspace(), ws.host(), at)
        return ws.runs_root / plan.run_id

    @classmethod
    def history(cls, root: Path) -> ReliabilityWorkspace:
        """A workspace whose delta log has two builds (snapshots 0, 2; builds at 1, 3)."""
        ws = cls.workspace(root)
        ws.add_snapshot(0)
        cls.build(ws, 1)
        ws.add_snapshot(2)
        cls.build(ws, 3)
        return ws


def _load_case(case_dir: Path) -> dict[str, Any]:
    case = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    unknown = set(case) - KEYS
    assert not unknown, f"{case_dir.name}/case.toml: unknown keys {sorted(unknown)}"
    return case


def _prepare(case_dir: Path, root: Path) -> Callable[[], None] | None:
    script = case_dir / "prepare.py"
    if not script.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"bad_case_{case_dir.name}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.prepare(root, Kit())


def _photo(root: Path) -> dict:
    """The case's files, but the lock file (each writing command rewrites the holder's pid)."""
    return {path: state for path, state in tree_state(root).items() if not path.endswith(b".govern.lock")}


def _codes(document: Any) -> set[str]:
    """Every error code anywhere in a --json document (the error, its problems, per-run problems)."""
    found: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            code = item.get("code")
            if isinstance(code, str) and code.startswith("E_"):
                found.add(code)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _argv(values: list[str], root: Path) -> list[str]:
    return [value.replace("{root}", str(root)) for value in values]


def test_every_case_is_named_after_a_documented_code():
    from govern.errors import ERROR_CODES

    assert CASES, f"no cases under {FIXTURES}"
    for case_dir in CASES:
        case = _load_case(case_dir)
        code = case["code"]
        prefix = code if code else "OK"
        assert case_dir.name.startswith(prefix + "_"), f"{case_dir.name}: its name must start with {prefix}_"
        assert not code or code in ERROR_CODES, f"{case_dir.name}: {code} is not in ERROR_CODES"
        assert case.get("description"), f"{case_dir.name}: no description"


@pytest.mark.parametrize("case_dir", CASES, ids=[path.name for path in CASES])
def test_bad_input(case_dir: Path, tmp_path: Path) -> None:
    case = _load_case(case_dir)
    root = tmp_path / "case"
    if (case_dir / "tree").is_dir():
        shutil.copytree(case_dir / "tree", root, symlinks=True)
    else:
        root.mkdir()
    for relative in case.get("seal", []):
        Kit.seal(root / relative)
    for relative in case.get("pin", []):
        Kit.pin(root / relative)
    cleanup = _prepare(case_dir, root)
    try:
        unchanged = case.get("unchanged", case["exit"] != 0)
        before = _photo(root) if unchanged else None
        argv = _argv(case["command"], root)
        env = {key: value.replace("{root}", str(root)) for key, value in case.get("env", {}).items()}
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        if case.get("unprivileged") and os.geteuid() == 0:
            # As root, file modes do not stop reads; setpriv (util-linux, essential on Debian)
            # drops the capabilities that bypass them. Its absence fails, never skips.
            setpriv = shutil.which("setpriv")
            assert setpriv, "running as root needs setpriv (util-linux) to make a file unreadable"
            completed = subprocess.run(
                [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", govern_executable(), "--json", *argv],
                cwd=root, env=clean_env(env), capture_output=True, text=True, timeout=60,
            )
            returncode, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
        else:
            returncode, stdout, stderr = run_govern("--json", *argv, cwd=root, env=env)
        context = f"{case_dir.name}: govern {' '.join(argv)}\nexit {returncode}\nstdout: {stdout}\nstderr: {stderr}"
        assert "Traceback" not in stderr, context
        document = json.loads(stdout)
        assert returncode == case["exit"], context
        if case["code"]:
            assert case["code"] in _codes(document), context
        else:
            assert document["error"] is None, context
        rendered = json.dumps(document, ensure_ascii=False)
        for text in case.get("message", []):
            assert text.replace("{root}", str(root)) in rendered, f"{text!r} not in the output\n{context}"
        if unchanged:
            assert _photo(root) == before, f"the files changed\n{context}"
        for relative in case.get("absent", []):
            assert not os.path.lexists(root / relative), f"{relative} still exists\n{context}"
        for then in case.get("then", []):
            result = run_govern(*_argv(then, root), cwd=root, env=env)
            assert result.returncode == 0, f"then {then}: {result}\n{context}"
    finally:
        if cleanup is not None:
            cleanup()
