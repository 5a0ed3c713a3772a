"""Store wrappers for the fault tests: one that counts the requests a command makes, one that
fails some of them the way a flaky object store does once the client's own retries are spent.

They wrap a real store (the S3 one, against SeaweedFS), so everything that does not fail is a
real request; a test makes every workspace use one with :func:`serve_through`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from govern.config.workspace import Workspace
from govern.errors import GovernError


class CountingStore:
    """A Store that counts the calls it passes on to another (how many requests a command makes)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1

    def list(self, prefix=""):
        self._count("list")
        self._count(f"list {prefix}")
        return self.inner.list(prefix)

    def list_level(self, prefix=""):
        self._count("list_level")
        return self.inner.list_level(prefix)

    def get(self, key, *, start=None, end=None):
        self._count("get")
        return self.inner.get(key, start=start, end=end)

    def stat(self, key):
        self._count("stat")
        return self.inner.stat(key)

    def put(self, key, data, *, if_absent=False):
        self._count("put")
        return self.inner.put(key, data, if_absent=if_absent)

    def put_file(self, key, path, *, if_absent=False):
        self._count("put_file")
        return self.inner.put_file(key, path, if_absent=if_absent)

    def delete(self, key):
        self._count("delete")
        return self.inner.delete(key)


class FaultyStore(CountingStore):
    """A Store that fails some calls the way a flaky object store does, after the client's
    own retries are spent: the S3 backend's E_STORE_UNREACHABLE (a timeout, a 500, a 503
    SlowDown), or a listing cut short (a page lost). ``keys`` narrows the failures to the
    keys it accepts (default: every key)."""

    def __init__(self, inner, fail: dict[str, str], keys: Callable[[str], bool] | None = None) -> None:
        super().__init__(inner)
        #: call name -> the failure: "timeout", "500", "503" or "partial".
        self.fail = fail
        self.keys = keys
        #: The keys of the calls made to fail, in order.
        self.failed: list[str] = []

    def _maybe_fail(self, name: str, key: str) -> None:
        kind = self.fail.get(name)
        if kind in ("timeout", "500", "503") and (self.keys is None or self.keys(key)):
            with self._lock:
                self.failed.append(key)
            reason = {"timeout": "operation timed out, after 2 retries", "500": "500 Internal Server Error", "503": "503 Service Unavailable (SlowDown)"}
            raise GovernError("E_STORE_UNREACHABLE", f"s3://faulty/runs: {name} {key} failed: {reason[kind]}")

    def list_level(self, prefix=""):
        self._count("list_level")
        self._maybe_fail("list_level", prefix or "/")
        level = list(self.inner.list_level(prefix))
        if self.fail.get("list_level") == "partial":
            return iter(level[: len(level) // 2])  # a page lost: runs missing from the listing
        return iter(level)

    def get(self, key, *, start=None, end=None):
        self._maybe_fail("get", key)
        return super().get(key, start=start, end=end)

    def put(self, key, data, *, if_absent=False):
        self._maybe_fail("put", key)
        return super().put(key, data, if_absent=if_absent)

    def put_file(self, key, path, *, if_absent=False):
        self._maybe_fail("put_file", key)
        return super().put_file(key, path, if_absent=if_absent)


def serve_through(monkeypatch: pytest.MonkeyPatch, store) -> None:
    """Make every workspace's runs root ``store`` (a wrapper of the real S3 store): the run
    store of every command is built over it."""
    monkeypatch.setattr(Workspace, "store", lambda self: store)
