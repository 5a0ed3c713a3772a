"""Killing ``govern publish`` and checking what it left, for any target store: shared by the
local crash test (tests/test_publish_crash.py) and the one on s3:// (tests/test_s3_publish_crash.py).

A target says which of the run's objects it holds whole (read back from the store itself) and
whether the run's seal is there; the invariant after every kill is the same everywhere: a
seal present means every object present with the run's bytes, and a re-run completes the
run, uploading exactly what was missing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from reliability_workspace import start_and_kill

#: Where a publish is killed on purpose on every store (the local one adds its own write path's points).
PUBLISH_STEPS = ["after-object:publish@3", "before-seal:publish"]


@attrs.frozen
class Killed:
    """How one publish ended: ``killed`` by SIGKILL, and if so ``mid_upload`` — before its
    seal was visible (inside the upload window, the moment the test aims at)."""

    killed: bool
    mid_upload: bool


def payload(objects: int, unit: int) -> dict[str, bytes]:
    """``objects`` files of 1 to 4 ``unit`` bytes each, the same bytes every session."""
    return {f"data/{index:02d}.bin": random.Random(index).randbytes(unit * (1 + index % 4)) for index in range(objects)}


def run_objects(run_dir: Path) -> dict[str, bytes]:
    """Every file of a local run folder: relative path -> bytes (what its publish must put)."""
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def random_kill(rng: random.Random, round_: int, objects: int, window: float) -> dict[str, Any]:
    """How round ``round_`` kills a publish of ``objects`` objects: at a random object's put
    (odd rounds), or a random moment up to ``window`` seconds after the first object is stored
    (even rounds: aimed at the upload window, measured for the target)."""
    if round_ % 2:
        return {"fault": f"after-object:publish@{rng.randint(1, objects - 1)}"}
    return {"fault": "after-object:publish@1", "stop_then_kill_after": rng.uniform(0, window)}


def kill_then_resume(
    argv: list[str],
    *,
    expected: dict[str, bytes],
    present: Callable[[], set[str]],
    sealed: Callable[[], bool],
    rerun: Callable[[], dict[str, Any]],
    what: str,
    env: dict[str, str] | None = None,
    lands_late: bool = False,
    **kill: Any,
) -> Killed:
    """Start the publish ``argv`` and kill it as ``kill`` says (:func:`start_and_kill`); check
    that a visible seal means a complete run (``present()``: the objects the target holds with
    the run's bytes; ``sealed()``: its seal is there); re-run it (``rerun()``: the ``--json``
    result) and check it uploaded exactly what was missing (``lands_late``: at most that, on a
    store where the killed client's last request may complete after its death). How it ended."""
    outcome = start_and_kill(argv, env=env, **kill)
    held = present()
    was_sealed = sealed()
    if was_sealed:
        # Visible as sealed: then it must be complete, every object with the run's bytes.
        assert held == expected.keys(), f"{what}: sealed, but {sorted(expected.keys() - held)} missing"
    result = rerun()
    missing = len(expected) - len(held)
    assert result["uploaded"] + result["skipped"] == len(expected), what
    if lands_late:
        # A request the killed client had sent may still complete at the server after we
        # looked: the re-run then finds that object too. It never uploads what was there.
        assert result["uploaded"] <= missing and result["skipped"] >= len(held), f"{what}: re-run uploaded {result['uploaded']}, {missing} were missing"
    else:
        assert result["uploaded"] == missing, f"{what}: re-run uploaded {result['uploaded']}, {missing} were missing"
    assert present() == expected.keys(), what
    return Killed(outcome.killed, outcome.killed and not was_sealed)


def kills_landed(
    rng: random.Random, rounds: int, objects: int, window: float, attempt: Callable[[str, dict[str, Any]], Killed]
) -> list[Killed]:
    """Run ``rounds`` random kills (``attempt(what, kill)``, :func:`random_kill`); how each ended."""
    return [attempt(f"round {round_}: {kill}", kill) for round_, kill in ((r, random_kill(rng, r, objects, window)) for r in range(rounds))]
