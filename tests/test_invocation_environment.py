"""Issue 12 point 3: plugins and the environment are handed to ``main(argv, plugins=…,
environ=…)``; nothing is swapped in ``os.environ``, so in-process invocations running side by
side each see only their own environment."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from govern import hookimpl
from govern.cli import main
from govern.testing import ScratchWorkspace, isolated_environment

ARTIFACT = "RUN_REGISTRY_v0_1.jsonl"
#: name -> (SOURCE_DATE_EPOCH, that moment in UTC, the build run id it gives).
EPOCHS = {
    "march": ("1709251200", "2024-03-01T00:00:00Z", "2024-03-01__000000__registry_delta_log_build"),
    "june": ("1749988800", "2025-06-15T12:00:00Z", "2025-06-15__120000__registry_delta_log_build"),
}


class Meeting:
    """Holds every invocation at the point where it adds its commands (before the command
    reads anything from its environment) until all of them are there."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    @hookimpl
    def govern_register_commands(self, app) -> None:  # noqa: ANN001
        self.barrier.wait()


def test_two_invocations_in_threads_each_see_their_own_environment(tmp_path: Path):
    workspaces = {}
    for name in EPOCHS:
        ws = ScratchWorkspace.create(tmp_path / name, {"run_registry": {"kind": "sealed", "artifact": ARTIFACT}})
        ws.run("2024-01-01__000000__first", {ARTIFACT: f'{{"name": "{name}"}}\n'})
        workspaces[name] = ws
    barrier = threading.Barrier(len(EPOCHS), timeout=60)
    codes: dict[str, int] = {}
    before = dict(os.environ)

    def invoke(name: str) -> None:
        environ = isolated_environment({"SOURCE_DATE_EPOCH": EPOCHS[name][0], "GOVERN_JOBS": "1"})
        codes[name] = main(["-q", "-C", str(workspaces[name].root), "delta", "build"], plugins={"meeting": Meeting(barrier)}, environ=environ)

    threads = [threading.Thread(target=invoke, args=(name,)) for name in EPOCHS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert codes == {name: 0 for name in EPOCHS}
    for name, (_epoch, moment, build_id) in EPOCHS.items():
        build = workspaces[name].latest_build()
        assert build is not None and build.name == build_id, (name, build)
        (record,) = workspaces[name].log_records()
        assert record["created_utc"] == moment
    assert dict(os.environ) == before  # nothing swapped into this process's environment


def test_main_reads_the_environment_it_is_given_not_the_process_one(tmp_path: Path, monkeypatch):
    ws = ScratchWorkspace.create(tmp_path / "ws", {"run_registry": {"kind": "sealed", "artifact": ARTIFACT}})
    ws.run("2024-01-01__000000__first", {ARTIFACT: "{}\n"})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not a number")  # would be E_CLOCK_INVALID if read
    monkeypatch.setenv("GOVERN_DISABLE_PLUGINS", "sha256_seal")  # would be E_PLUGIN_FAILED if read
    code = main(["-q", "-C", str(ws.root), "delta", "build"], environ={"SOURCE_DATE_EPOCH": EPOCHS["march"][0]})
    assert code == 0
    assert ws.latest_build().name == EPOCHS["march"][2]
