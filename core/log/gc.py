"""``govern gc``: remove what lost races and crashes leave in a runs root, never a build (docs/object-storage.md, "The commit protocol").

A build run without a head was never committed (a lost race whose writer died before taking
it back, or a crash between its upload and its head); on an object store, a run without its
seal is a publish cut short. Neither is ever read, and neither is removed by the writers that
race without a lock — removing it is ``gc``'s job, once it is older than a duration an
operator chooses longer than any build or publish takes. Age is measured by the clock in the
run id against the command's clock (``--at``), so what gc does is deterministic.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from govern.errors import GovernError
from govern.log.build import remove_uncommitted_build
from govern.log.delta_log import is_build_run, uncommitted_builds
from govern.log.recorded_snapshots import read_latest_build
from govern.runs.run_store import RunStore
from govern.runtime.clock import format_utc
from govern.store.atomic import upload_staging_time
from govern.store.local import LocalStore

_DURATION = re.compile(r"(\d+)([smhdw])", re.ASCII)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: Why a run is garbage, as ``gc`` reports it.
UNCOMMITTED_BUILD = "uncommitted build run (no head object)"
HALF_PUBLISHED = "half-published run (no MANIFEST.sha256)"
ABANDONED_UPLOAD = "temporary object of a large upload cut short"


def parse_duration(text: str) -> dt.timedelta:
    """``--older-than``: a whole number and a unit, ``s``, ``m``, ``h``, ``d`` or ``w`` (``36h``, ``7d``); E_USAGE otherwise."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise GovernError("E_USAGE", f"--older-than {text!r}: expected a whole number and a unit s, m, h, d or w (e.g. 36h, 7d)")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def run_time(run_id: str) -> dt.datetime:
    """The moment a run id names (``YYYY-MM-DD__HHMMSS__slug``), in UTC."""
    date, time, _ = run_id.split("__", 2)
    return dt.datetime.strptime(f"{date}T{time}", "%Y-%m-%dT%H%M%S").replace(tzinfo=dt.UTC)


@attrs.frozen
class Garbage:
    """One run ``gc`` removes (or would): why, and the time its run id names."""

    #: The run id; for an abandoned upload, the temporary object's key.
    run_id: str
    reason: str
    created_utc: str


def find_garbage(runs: RunStore, *, now: dt.datetime, older_than: dt.timedelta) -> list[Garbage]:
    """The runs ``gc`` removes, sorted by run id: build runs never committed, and — on a store
    that is not a local folder, where a run arrives only by publishing — runs without a seal
    that the log has not recorded, each older than ``older_than`` at ``now``. On a local
    runs root an unsealed folder is a run being written (or a legacy folder): never garbage."""
    cutoff = now - older_than
    found = [Garbage(run_id, UNCOMMITTED_BUILD, format_utc(run_time(run_id))) for run_id in uncommitted_builds(runs)]
    if not isinstance(runs.backend, LocalStore):
        latest = read_latest_build(runs)
        recorded = set(latest.state.runs_examined) if latest else set()
        listing = runs.list_runs()
        found += [
            Garbage(run_id, HALF_PUBLISHED, format_utc(run_time(run_id)))
            for run_id in listing.names
            if not is_build_run(run_id) and run_id not in recorded and not runs.is_sealed(run_id) and runs.exists(run_id)
        ]
        found += [Garbage(name, ABANDONED_UPLOAD, format_utc(moment)) for name, moment in abandoned_uploads(listing.staging)]
    return sorted((item for item in found if _created(item) < cutoff), key=lambda item: item.run_id)


def abandoned_uploads(staging: tuple[str, ...]) -> list[tuple[str, dt.datetime]]:
    """The temporary objects of large uploads among the staging names of an object-storage
    runs root, with the moment each began (a live upload's is recent; gc's age threshold
    tells the two apart)."""
    return [(name, moment) for name in staging if (moment := upload_staging_time(name)) is not None]


def _created(item: Garbage) -> dt.datetime:
    return upload_staging_time(item.run_id) or run_time(item.run_id)


def remove_garbage(runs: RunStore, garbage: list[Garbage]) -> None:
    """Delete each run of ``garbage``: an uncommitted build seal first, a half-published run's
    files. Each is looked at again first: a build committed, or a run sealed, since it was
    found is kept."""
    still_uncommitted = set(uncommitted_builds(runs))
    for item in garbage:
        if item.reason == UNCOMMITTED_BUILD:
            if item.run_id in still_uncommitted:
                remove_uncommitted_build(runs, item.run_id)
        elif item.reason == ABANDONED_UPLOAD:
            runs.backend.delete(item.run_id)  # one object, never a run
        elif not runs.is_sealed(item.run_id):  # sealed since it was found: published after all
            runs.remove_unsealed(item.run_id)

