"""PostgreSQL for the benchmarks: the tests' server launcher, imported from where it lives.

``tests/postgres.py`` starts a real server of its own (``initdb`` into a temporary folder, a
Unix socket and a free port on 127.0.0.1, dying with this process, its folder removed when it
stops); the ``sql_table`` workload starts one for its own run and stops it before it returns.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_TESTS = Path(__file__).resolve().parent.parent / "tests"


def _launcher() -> Any:
    if str(_TESTS) not in sys.path:
        sys.path.insert(0, str(_TESTS))
    import postgres

    return postgres


def server_available() -> bool:
    """True when PostgreSQL's server binaries (``initdb``, ``postgres``) are installed."""
    return _launcher().server_binaries() is not None


def running_server() -> Any:
    """A context manager: a PostgreSQL server for the block (``tests/postgres.py``)."""
    return _launcher().running_postgres()


def password() -> str:
    """The superuser's password, needed over TCP (what govern's ``password_env`` names)."""
    return str(_launcher().PASSWORD)
