"""``--strict`` (``delta build``, ``registry list``, ``verify --all``): unsealed or late runs, or uncommitted build runs, fail the command, for CI."""

from __future__ import annotations

from govern.errors import GovernError
from govern.format.plurals import plural


def fail_if_strict(unsealed: int, late: int, uncommitted: int = 0) -> None:
    """Under --strict, end the command with exit 1 (E_STRICT) when there are unsealed runs,
    late snapshots or uncommitted build runs. Call after the command's result is emitted:
    they are listed first."""
    if uncommitted:
        raise GovernError(
            "E_STRICT",
            f"--strict: {plural(uncommitted, 'uncommitted build run')} (listed above): 'govern gc --older-than D' removes them",
        )
    if unsealed or late:
        raise GovernError(
            "E_STRICT",
            f"--strict: {plural(unsealed, 'unsealed run')} and {plural(late, 'late snapshot')} (listed above): "
            "seal the unsealed runs; record late ones with 'govern delta build --accept-late RUN --reason TEXT'",
        )
