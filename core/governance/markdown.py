"""Markdown building blocks for the reports: tables and cell escaping, nothing else."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """A table cell: pipes escaped, newlines folded (a cell is one line)."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def code(text: str) -> str:
    """Inline code (backticks inside are rare in paths; double them up if present)."""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table, one line per row."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    lines.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
    return lines


def first_sentence(text: str | None) -> str:
    """The first sentence of a description, without its full stop."""
    if not text:
        return ""
    for end in (". ", ".\n"):
        if end in text:
            text = text[: text.index(end)]
            break
    return text.rstrip(".").strip()
