"""The code points at documentation a clone of the repository has (issue 12, point 7).

DESIGN.md lives outside this repository, so "DESIGN §N" in a docstring or comment is a
dangling reference: each rule is cited by the repository's own page and section instead
(docs/formats.md, docs/delta-log.md, docs/errors.md, docs/configuration.md, …).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path for folder in ("core", "plugins", "examples", "tests", "benchmarks", "scripts") for path in (REPO / folder).rglob("*.py") if path.name != Path(__file__).name
)


def test_no_source_file_cites_the_design_document() -> None:
    assert REPO / "core" / "format" / "jsonl.py" in SOURCES  # the walk finds the sources
    cited = [
        f"{path.relative_to(REPO)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "DESIGN §" in line
    ]
    assert cited == [], f"cite docs/ instead of DESIGN §… (a clone does not have DESIGN.md): {cited}"
