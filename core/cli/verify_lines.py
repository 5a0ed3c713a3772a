"""The lines ``govern verify`` prints for runs that passed, and its summary — one wording for
the full command and for its quick answer (:mod:`govern.cli.quick_verify`); no import beyond
the plurals helper, so the quick answer stays quick."""

from __future__ import annotations

from govern.format.plurals import plural


def run_ok_line(run_id: str, files: int, root_sha256: str | None) -> str:
    """``OK      RUN  N files  ROOT_SHA256 HEX``: one run that passed."""
    return f"OK      {run_id}  {plural(files, 'file')}  ROOT_SHA256 {root_sha256}"


def runs_summary_line(runs: int, ok: int, failed: int, unsealed: int) -> str:
    """``N runs: A ok, B failed[, C unsealed (not checked)]``.

    "verified" (the JSON key, kept for compatibility) counts the runs checked, passed or not;
    people read "verified" as "passed", so the text says how many passed and failed."""
    skipped = f", {unsealed} unsealed (not checked)" if unsealed else ""
    return f"{plural(runs, 'run')}: {ok} ok, {failed} failed{skipped}"
