"""Built-in plugin: the governance books and the generated reports.

Adds two command groups through ``govern_register_commands``: ``governance`` (add-op, sync,
freeze, addendum, scorecard, check — :mod:`govern.plugins.governance_cli`) and ``report``
(validation, completion — :mod:`govern.plugins.report_cli`). The logic lives in
:mod:`govern.governance`; these modules only parse, call and report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govern import hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def govern_register_commands(app: typer.Typer) -> None:
    """Mount the ``governance`` and ``report`` groups."""
    from govern.plugins import governance_cli, report_cli

    governance_cli.register(app)
    report_cli.register(app)
