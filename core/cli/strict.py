"""``--strict`` (``delta build``, ``registry list``): unsealed or late runs fail the command, for CI."""

from __future__ import annotations

from govern.errors import GovernError
from govern.format.plurals import plural


def fail_if_strict(unsealed: int, late: int) -> None:
    """Under --strict, end the command with exit 1 (E_STRICT) when there are unsealed runs or
    late snapshots. Call after the command's result is emitted: they are listed first."""
    if unsealed or late:
        raise GovernError(
            "E_STRICT",
            f"--strict: {plural(unsealed, 'unsealed run')} and {plural(late, 'late snapshot')} (listed above): "
            "seal the unsealed runs; record late ones with 'govern delta build --accept-late RUN --reason TEXT'",
        )
