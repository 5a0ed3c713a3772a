"""``govern report validation | completion``: Markdown reports, every number derived."""

from __future__ import annotations

import typer

report_app = typer.Typer(help="Generated reports: every number derived, every criterion with its evidence.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Mount the group on the root app."""
    app.add_typer(report_app, name="report")
