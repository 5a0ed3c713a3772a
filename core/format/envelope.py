"""run.json, the run envelope: who made a run, when, with which operation (docs/formats.md, "2. `run.json` — the envelope")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from govern.__about__ import __version__
from govern.runtime.clock import format_utc

ENVELOPE_NAME = "run.json"
RUN_VERSION = "0.1"


def make_envelope(
    run_id: str,
    *,
    op_id: str | None,
    clock: dt.datetime,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A run.json document for a run made by govern now (``clock``)."""
    return {
        "run_version": RUN_VERSION,
        "run_id": run_id,
        "op_id": op_id,
        "created_utc": format_utc(clock),
        "tool": {"name": "govern", "version": __version__},
        "inputs": inputs or {},
        "outputs": outputs or {},
        "params": params or {},
    }
