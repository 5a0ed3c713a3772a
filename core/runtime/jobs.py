"""How many processes govern's parallel work may use.

Hashing (``seal``, ``verify``), reading large manifests side by side (``delta build``) and
checking large JSONL files (``validate``, ``verify --log``) all share their work among at most
:func:`default_jobs` processes: ``GOVERN_JOBS`` when set (``GOVERN_JOBS=1`` keeps everything in
one process), else the CPUs this process may run on.
"""

from __future__ import annotations

import os

from govern.runtime import environment

#: Environment variable capping the processes (default: the CPUs this process may use).
JOBS_ENV = "GOVERN_JOBS"


def default_jobs() -> int:
    """Processes to share parallel work among: ``GOVERN_JOBS`` (in the invocation's
    environment) if set, else the usable CPUs."""
    configured = environment.current().get(JOBS_ENV, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
