"""The build clock: ``--at``, else ``SOURCE_DATE_EPOCH``, else now (docs/formats.md, "7. The clock").

Sealed output never reads the wall clock directly: everything that writes a time asks for a
:class:`datetime` from :func:`resolve_clock` once and passes it down.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from govern.errors import GovernError
from govern.runtime import environment

_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# fullmatch and ASCII: "$" would let a trailing newline through, and \d other scripts' digits.
_AT_PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)


def format_utc(moment: dt.datetime) -> str:
    """Format as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(dt.UTC).strftime(_UTC_FORMAT)


def parse_utc(text: str) -> dt.datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` (the only accepted form) into an aware UTC datetime."""
    match = _AT_PATTERN.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not of the form YYYY-MM-DDTHH:MM:SSZ")
    try:
        # Built from the fields, not strptime: its errors quote "%Y-%m-%dT%H:%M:%SZ", while
        # datetime's own say what is wrong ("month must be in 1..12").
        year, month, day, hour, minute, second = (int(field) for field in match.groups())
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real moment: {exc} (expected YYYY-MM-DDTHH:MM:SSZ, in UTC)") from None


def resolve_clock(at: str | None = None, environ: Mapping[str, str] | None = None) -> dt.datetime:
    """The moment to stamp output with, to the second, in UTC.

    ``at`` (``YYYY-MM-DDTHH:MM:SSZ``) wins; else ``SOURCE_DATE_EPOCH`` (integer seconds, the
    reproducible-builds convention, read from ``environ``, by default the invocation's
    environment); else the current time. Bad values raise E_CLOCK_INVALID.
    """
    env = environment.current() if environ is None else environ
    if at is not None:
        try:
            return parse_utc(at)
        except ValueError as exc:
            raise GovernError("E_CLOCK_INVALID", f"--at: {exc}") from None
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch != "":
        if not epoch.isdigit():
            raise GovernError("E_CLOCK_INVALID", f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds")
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise GovernError("E_CLOCK_INVALID", f"SOURCE_DATE_EPOCH={epoch!r} is out of range") from None
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
