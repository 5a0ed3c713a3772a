"""``python -m benchmarks.count_requests OUT.json GOVERN-ARGS…``: run one govern command in
this process with every store call counted, and write the counts to ``OUT.json``.

Every command that reads the runs root reads it through the backend ``Workspace.store()`` opens; here that
run store's backend is wrapped in :class:`CountingStore`, which counts each call by kind
before passing it on to the real S3 backend. A call is one request, except a listing of more
than 1,000 keys (one ListObjectsV2 page per 1,000) and ``put_file`` of a file larger than a
multipart part.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any


class CountingStore:
    """A Store passing every call on to ``inner``, counting them by kind."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, kind: str) -> None:
        with self._lock:
            self.calls[kind] += 1

    def list(self, prefix: str = "") -> Any:
        """Counted :meth:`Store.list`."""
        self._count("list")
        return self.inner.list(prefix)

    def list_level(self, prefix: str = "") -> Any:
        """Counted :meth:`Store.list_level`."""
        self._count("list_level")
        return self.inner.list_level(prefix)

    def get(self, key: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """Counted :meth:`Store.get`."""
        self._count("get")
        return self.inner.get(key, start=start, end=end)

    def stat(self, key: str) -> int | None:
        """Counted :meth:`Store.stat` (a HEAD)."""
        self._count("head")
        return self.inner.stat(key)

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Counted :meth:`Store.put`."""
        self._count("put")
        return self.inner.put(key, data, if_absent=if_absent)

    def put_file(self, key: str, path: Path, *, if_absent: bool = False) -> None:
        """Counted :meth:`Store.put_file`."""
        self._count("put")
        return self.inner.put_file(key, path, if_absent=if_absent)

    def delete(self, key: str) -> None:
        """Counted :meth:`Store.delete`."""
        self._count("delete")
        return self.inner.delete(key)


def main(argv: list[str]) -> int:
    """Run ``govern argv[1:]`` with its run store counted; write the counts to ``argv[0]``."""
    from govern.cli import main as govern_main
    from govern.config.workspace import Workspace

    out, args = Path(argv[0]), argv[1:]
    counters: dict[int, CountingStore] = {}
    real_store = Workspace.store

    def counted_store(self: Workspace) -> Any:
        backend = real_store(self)
        return counters.setdefault(id(backend), CountingStore(backend))

    Workspace.store = counted_store  # type: ignore[method-assign]
    code = govern_main(args)
    total: Counter[str] = Counter()
    for wrapper in counters.values():
        total.update(wrapper.calls)
    out.write_text(json.dumps({"exit": code, "calls": dict(total)}) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
