"""A real PostgreSQL server for the tests: ``initdb`` into a temporary folder, the server on a
Unix socket in that folder and on 127.0.0.1 at a free port, gone with the session.

The ``postgres`` session fixture (tests/conftest.py) starts one per test session (per xdist
worker); each test asks it for a database of its own (:meth:`PostgresServer.fresh_database`),
so tests never see each other's tables. Needs PostgreSQL's server binaries (``initdb`` and
``postgres``, on PATH or in Debian's ``/usr/lib/postgresql/<version>/bin``); ``.ci/run``
installs Debian's ``postgresql`` package when they are missing.

- **Root.** ``initdb`` and ``postgres`` refuse to run as root (CI runs as root), so then the
  server runs as an unprivileged user (``postgres`` where Debian's package made it, else
  ``nobody``) and its folder is made theirs. The folder is made with :func:`tempfile.mkdtemp`
  directly under the system temp folder, because pytest's own temp folders are private to
  root and the server's user could not enter them.
- **Dies with the session.** The postmaster is started directly as a child of this process
  (not through ``pg_ctl start``, which detaches it) with ``PR_SET_PDEATHSIG``, as
  ``scripts/seaweedfs.py`` does for SeaweedFS: a killed test session takes its server down
  (the backends notice their postmaster's death and exit). The folder of a server whose
  session was killed is removed by the next start (:func:`remove_abandoned_folders`).
- **Authentication.** The superuser :data:`USER` is trusted on the Unix socket (the
  fixture's own administration) and needs its password :data:`PASSWORD` over TCP, so the
  tests can exercise the password path of a DSN (``password_env``) for real.
- **Fast, not durable.** ``fsync``, ``synchronous_commit`` and ``full_page_writes`` are off:
  a crash loses nothing a test needs, and a 1,000,000-row table loads in seconds.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: The superuser ``initdb`` creates; every test connects as it.
USER = "govern"
#: Its password, needed over TCP (the Unix socket trusts it).
PASSWORD = "govern-test-password"
#: How long the server may take to accept its first connection.
START_TIMEOUT_S = 60.0
#: The prefix of every server folder (so a later session can find abandoned ones).
FOLDER_PREFIX = "govern-pg-"

_PR_SET_PDEATHSIG = 1
#: Users the server may run as when this process is root, first one that exists wins.
_UNPRIVILEGED_USERS = ("postgres", "nobody")


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: beside ``initdb`` on PATH (Debian links
    only the client tools there, so the link is followed), else the newest
    ``/usr/lib/postgresql/<version>/bin``; None when PostgreSQL is not installed."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda folder: int(Path(folder).parent.name), reverse=True)
    candidates.extend(Path(folder) for folder in versions)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec, after the user switch
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when this process is root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError(f"running as root and none of the users {', '.join(_UNPRIVILEGED_USERS)} exists to run PostgreSQL as")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_folders(parent: Path) -> None:
    """Remove the server folders under ``parent`` whose session died without removing them
    (their ``owner.pid`` names a process that no longer exists)."""
    for folder in parent.glob(f"{FOLDER_PREFIX}*"):
        try:
            owner = int((folder / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if not _pid_alive(owner):
            shutil.rmtree(folder, ignore_errors=True)


class PostgresServer:
    """A running PostgreSQL server of its own folder: where to reach it, a database per test,
    and a way to stop it."""

    def __init__(self) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise RuntimeError(
                "PostgreSQL's server binaries (initdb, postgres) are missing: install them "
                "(Debian: apt-get install postgresql; .ci/run does this)"
            )
        temp_parent = Path(tempfile.gettempdir())
        remove_abandoned_folders(temp_parent)
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=temp_parent))
        (self.folder / "owner.pid").write_text(str(os.getpid()))
        self.data_dir = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._databases = itertools.count(1)
        self._user = _server_user()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None
        try:
            self._initdb(binaries)
            self._start(binaries)
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise

    def _as_server_user(self) -> dict[str, Any]:
        """The ``subprocess`` arguments that run a command as the server's user."""
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _initdb(self, binaries: Path) -> None:
        self.socket_dir.mkdir()
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD + "\n")
        if self._user is not None:
            for path in (self.folder, self.socket_dir, password_file):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        args = [
            str(binaries / "initdb"),
            f"--pgdata={self.data_dir}",
            f"--username={USER}",
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            # The C locale: text sorts by code point, as Python and SQLite sort it.
            "--no-locale",
            "--no-sync",
        ]
        done = subprocess.run(args, capture_output=True, cwd=self.folder, **self._as_server_user())
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}")

    def _start(self, binaries: Path) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "40",
            "shared_buffers": "32MB",
        }
        args = [str(binaries / "postgres"), "-D", str(self.data_dir)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        self._log = open(self.folder / "postgres.log", "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            preexec_fn=_die_with_parent,
            # Its own session: a Ctrl-C of the test run reaches pytest, whose teardown stops the
            # server, rather than shutting the server down under a running test.
            start_new_session=True,
            **self._as_server_user(),
        )

    def _wait_until_serving(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            try:
                psycopg.connect(**self.socket_params("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        log = (self.folder / "postgres.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL did not accept connections within {START_TIMEOUT_S:.0f} s:\n{log}")

    def socket_params(self, database: str) -> dict[str, Any]:
        """psycopg's connection arguments for ``database`` over the Unix socket (trusted)."""
        return {"host": str(self.socket_dir), "port": self.port, "user": USER, "dbname": database}

    def connect(self, database: str, **options: Any) -> Any:
        """A new psycopg connection to ``database`` over the Unix socket (the test's own
        writer or checker; the code under test connects by its DSN)."""
        import psycopg

        return psycopg.connect(**self.socket_params(database), **options)

    def fresh_database(self, name: str = "t") -> str:
        """Create a database no other test of this session uses (``t1``, ``t2``, …) and return
        its name."""
        database = f"{name}{next(self._databases)}"
        with self.connect("postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        return database

    def dsn(self, database: str, *, port: int | None = None) -> str:
        """The DSN govern is configured with for ``database``: ``postgresql://user@host:port/db``
        over TCP, without the password (that goes through ``password_env``)."""
        return f"postgresql://{USER}@{self.host}:{self.port if port is None else port}/{database}"

    def stop(self) -> None:
        """Stop the server (a fast shutdown, SIGKILL after 10 s), close its log and remove its
        folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the block; stopped and its folder removed however the block ends."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # python tests/postgres.py: a server to try things against by hand
    with running_postgres() as server:
        print(f"PostgreSQL on {server.dsn('postgres')} (password {PASSWORD!r}), socket {server.socket_dir}; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
