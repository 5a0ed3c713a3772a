"""A build's records are checked before anything is written: declared basis, record version,
record schema.

A plugin answering ``govern_delta_basis`` can produce any :class:`~govern.format.models.Delta`; a
record the log's schema refuses would be appended, sealed and committed, and ``verify --log``
would then fail for good. So every record a build plans is held, before the build writes
anything (and in ``--dry-run`` too), to three rules, each failure naming the plugin that
answered, the registry and the snapshot run:

- its basis is declared by an installed plugin (``govern_delta_bases``: E_BASIS_UNDECLARED);
- record version 0.1 admits only the built-in bases; a declared basis of a plugin's own needs
  ``[workspace] record_version = "0.2"`` (E_RECORD_INVALID, saying so);
- it is valid against the schema of its record version — the very checker ``govern verify
  --log`` and ``govern validate`` use (E_RECORD_INVALID).

A log may move from record version 0.1 to 0.2, never back: a build configured for an older
version than the log's latest record is a configuration error.
"""

from __future__ import annotations

from collections.abc import Sequence

from govern.config.workspace import RECORD_VERSIONS, Workspace
from govern.errors import GovernError
from govern.format.jsonio import StrictJSONError
from govern.format.jsonl import last_line, parse_line
from govern.format.models import BUILTIN_BASES, DeltaRecord
from govern.host.manager import PluginHost


def _answered_by(producer: str | None, host: PluginHost) -> str:
    """``plugin NAME (SOURCE)``, or why the plugin cannot be named."""
    if producer is None:
        return "a plugin (answered through a hook wrapper)"
    return f"plugin {producer} ({host.source(producer)})"


def _where(record: DeltaRecord) -> str:
    return f"registry {record.registry_id} @ {record.to_ref.label}"


def latest_record_version(log_bytes: bytes) -> str | None:
    """The ``delta_version`` of a log's last record (None for an empty or unreadable log:
    the log's own checks say what is wrong with it)."""
    line = last_line(log_bytes)
    if line is None:
        return None
    try:
        record = parse_line(line)
    except StrictJSONError:
        return None
    version = record.get("delta_version") if isinstance(record, dict) else None
    return version if isinstance(version, str) else None


def record_version_regression(log_bytes: bytes, start: int = 0) -> tuple[int, str, str] | None:
    """The first line at or after byte ``start`` whose record version is older than a record
    before it — (1-based line number, its version, the later version it follows) — or None.

    A log moves to a later record version, never back. Canonical lines are compact, so a
    record's version is the bytes ``"delta_version":"X"``; inside a string value those quotes
    would be escaped, so the pattern matches only the key itself.
    """
    for index, later in enumerate(RECORD_VERSIONS[1:], start=1):
        first_later = log_bytes.find(b'"delta_version":"%s"' % later.encode("ascii"))
        if first_later < 0:
            continue
        for older in RECORD_VERSIONS[:index]:
            at = log_bytes.find(b'"delta_version":"%s"' % older.encode("ascii"), max(first_later, start))
            if at >= 0:
                return log_bytes.count(b"\n", 0, at) + 1, older, later
    return None


def check_record_version(workspace: Workspace, previous_log: bytes, previous_run_id: str | None) -> None:
    """A build never writes an older record version than the log's latest record (E_CONFIG_INVALID)."""
    configured = workspace.config.workspace.record_version
    latest = latest_record_version(previous_log)
    if latest in RECORD_VERSIONS and RECORD_VERSIONS.index(latest) > RECORD_VERSIONS.index(configured):
        raise GovernError(
            "E_CONFIG_INVALID",
            f'{workspace.config_path}: workspace.record_version = "{configured}", but the log\'s latest records '
            f"(build {previous_run_id}) are version {latest}; a log moves to a later record version, never back "
            f'(set record_version = "{latest}")',
        )


def check_planned_records(
    records: Sequence[DeltaRecord], producers: Sequence[str | None], workspace: Workspace, host: PluginHost
) -> None:
    """Refuse (exit 2) the first planned record that breaks a rule of this module's docstring.

    ``producers[i]`` is the plugin whose ``govern_delta_basis`` answered for ``records[i]``.
    """
    if not records:
        return
    from govern.log.validation import delta_record_checker

    declared = host.delta_bases()
    version = workspace.config.workspace.record_version
    check = delta_record_checker()
    for record, producer in zip(records, producers, strict=True):
        basis = record.delta.basis
        who = _answered_by(producer, host)
        if basis not in declared:
            known = ", ".join(declared) or "none"
            raise GovernError(
                "E_BASIS_UNDECLARED",
                f"{who} answered basis {basis!r} for {_where(record)}, but no plugin declares it "
                f"(govern_delta_bases; declared: {known}); nothing written (build {record.derivation_run_id} not created)",
            )
        if version == "0.1" and basis not in BUILTIN_BASES:
            raise GovernError(
                "E_RECORD_INVALID",
                f"{who} answered basis {basis!r} for {_where(record)}, which record version 0.1 does not admit "
                f"(only {', '.join(BUILTIN_BASES)}; {basis!r} is declared by {', '.join(declared[basis])}); "
                f'set [workspace] record_version = "0.2" in {workspace.config_path} to record plugin-declared bases; '
                f"nothing written (build {record.derivation_run_id} not created)",
            )
        violations = check(record.to_json())
        if violations:
            more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
            raise GovernError(
                "E_RECORD_INVALID",
                f"{who} answered a delta for {_where(record)} that makes a record the delta-record schema "
                f"v{record.delta_version} refuses: {violations[0]}{more}; nothing written (build {record.derivation_run_id} not created)",
            )
