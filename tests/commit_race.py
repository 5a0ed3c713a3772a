"""The race of builders on one runs root (issue 13, "8 builders on 8 processes"), shared by the
local race (tests/test_commit_protocol.py) and the one on a real SeaweedFS (tests/test_s3_race.py).

A round lays down one new snapshot, starts 8 builders at once with 8 different clocks, and
checks the outcome: one head per sequence number, every loser told E_COMMIT_RACE_LOST (exit 3)
or up to date (exit 0), exactly the committed builds visible, every snapshot recorded once.
Heads are read through a :class:`~govern.store.backend.Store`, so one check serves a local
folder and a bucket.
"""

from __future__ import annotations

import json

ARTIFACT = "ALPHA_v0_1.json"
BUILDERS = 8
ROUNDS = 20
BUILD_SUFFIX = "registry_delta_log_build"
RACE_LOST = "govern: error: E_COMMIT_RACE_LOST: another build committed first: "


def race_clock(round_: int, second: int = 0) -> str:
    """A build clock: round ``round_`` of the race, builder ``second``."""
    return f"2024-03-01T{round_ // 60:02d}:{round_ % 60:02d}:{second:02d}Z"


def snapshot_id(n: int) -> str:
    """The run id of the race's ``n``-th snapshot (one an hour, in January 2024)."""
    return f"2024-01-{1 + n // 24:02d}__{n % 24:02d}0000__alpha"


def snapshot_files(n: int) -> dict[str, str]:
    """The payload of the ``n``-th snapshot: the artifact, different each time."""
    return {ARTIFACT: f'{{"v": {n}}}\n'}


def heads_in(backend) -> list[dict]:
    """Every head object ``_log/<seq>.json`` in the store ``backend``, by sequence number."""
    keys = sorted(key for key, _ in backend.list("_log/") if key.rsplit("/", 1)[1][:1].isdigit())
    return [json.loads(backend.get(key)) for key in keys]


def check_outcomes(outcomes: list[tuple[int, str]]) -> int:
    """Every builder of a round (exit code, stderr) committed, found itself up to date (0) or
    lost the race cleanly (3, one E_COMMIT_RACE_LOST line); the number of losers."""
    for code, stderr in outcomes:
        assert code in (0, 3), stderr
        if code == 3:
            assert stderr.startswith(RACE_LOST), stderr
    return sum(code == 3 for code, _ in outcomes)


def check_round(heads: list[dict], heads_before: int, first_round: bool, build_runs: list[str]) -> list[str]:
    """After a round: exactly one new head (two in the first: the genesis, then the first
    build), sequence numbers without gap or repeat, and exactly the committed builds visible
    as runs (every loser took its run back). The committed build run ids, oldest first."""
    assert len(heads) == heads_before + (2 if first_round else 1)
    assert [head["seq"] for head in heads] == list(range(len(heads)))
    committed = [head["run_id"] for head in heads[1:]]
    assert sorted(build_runs) == committed
    return committed


def build_in_this_process(root: str, at: str, stderr: str, environ: dict[str, str]) -> None:
    """A builder's body: ``govern -C ROOT delta build --at AT`` through :func:`govern.cli.main`,
    its stderr in the file ``stderr``; the process exits with the command's code (the target
    of a ``multiprocessing`` process started by a "forkserver" context)."""
    import os
    import sys

    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process ends below)
    sys.stderr = open(stderr, "w")  # noqa: SIM115
    from govern.cli import main

    code = main(["-C", root, "delta", "build", "--at", at], environ=environ)
    sys.stderr.flush()
    raise SystemExit(code)
