"""The PostgreSQL server the tests start (tests/postgres.py) is gone with the session that
started it, even when that session is killed: the postmaster dies with its parent, and the
next server's start removes the folder the killed session left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from postgres import remove_abandoned_folders

TESTS = Path(__file__).resolve().parent
_SESSION = """
import signal, sys
from postgres import PostgresServer
server = PostgresServer()
print(server.process.pid, server.folder, flush=True)
signal.pause()
"""


def _gone(pid: int, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ", 1)[1].startswith("Z"):
                    return True  # dead, waiting to be reaped: not serving
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_killed_session_takes_its_server_down_and_its_folder_is_removed_later() -> None:
    session = subprocess.Popen(
        [sys.executable, "-c", _SESSION], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(TESTS)}
    )
    try:
        assert session.stdout is not None
        postmaster_pid, folder = session.stdout.readline().split()
        assert (Path(folder) / "data" / "postmaster.pid").is_file()
    finally:
        session.send_signal(signal.SIGKILL)
        session.wait()
    assert _gone(int(postmaster_pid), 10.0), "the postmaster outlived the killed session"
    assert Path(folder).is_dir()
    remove_abandoned_folders(Path(folder).parent)
    assert not Path(folder).exists()
