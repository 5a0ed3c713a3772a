"""The documentation stays true: every error code is documented, nothing undocumented is
mentioned, and the worked example of docs/formats.md is byte-for-byte self-consistent."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from govern.errors import ERROR_CODES, ErrorCode

DOCS = Path(__file__).resolve().parent.parent / "docs"
CODE_TOKEN = re.compile(r"\bE_[A-Z][A-Z0-9_]*\b")


@pytest.fixture(scope="module")
def errors_md() -> str:
    return (DOCS / "errors.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def formats_md() -> str:
    return (DOCS / "formats.md").read_text(encoding="utf-8")


def test_every_error_code_has_a_section_and_a_table_row(errors_md: str):
    headings = set(re.findall(r"^### (E_[A-Z0-9_]+)$", errors_md, flags=re.MULTILINE))
    rows = set(re.findall(r"^\| `(E_[A-Z0-9_]+)` \|", errors_md, flags=re.MULTILINE))
    assert sorted(set(ERROR_CODES) - headings) == [], "codes without a section in docs/errors.md"
    assert sorted(set(ERROR_CODES) - rows) == [], "codes missing from the summary table"


def test_every_section_says_exit_code_example_and_what_to_do(errors_md: str):
    sections = re.split(r"^### ", errors_md, flags=re.MULTILINE)[1:]
    assert len(sections) == len(ERROR_CODES)
    for section in sections:
        code = section.split("\n", 1)[0]
        assert re.search(r"^Exit ([0-3]|130)\b", section.split("\n", 2)[2], flags=re.MULTILINE), code
        assert "Example:" in section, code
        assert "What to do:" in section, code


def test_no_undocumented_code_is_mentioned(errors_md: str, formats_md: str):
    mentioned = set(CODE_TOKEN.findall(errors_md)) | set(CODE_TOKEN.findall(formats_md))
    assert sorted(mentioned - set(ERROR_CODES)) == [], "docs mention codes govern does not have"


def _documented_exit(entry: ErrorCode) -> str:
    """The exit column docs/errors.md's summary table must show for ``entry``."""
    return f"{entry.exit_code:d} seal · 1 verify" if entry.sealing_refusal else f"{entry.exit_code:d}"


def test_the_summary_table_is_exactly_the_code_table_with_its_exit_codes(errors_md: str):
    """Issue 12 point 6: the table in govern.errors is the one source of each code's exit code;
    the page lists exactly its codes, each with the same exit code (row and section)."""
    rows = re.findall(r"^\| `(E_[A-Z0-9_]+)` \| ([^|]+) \|", errors_md, flags=re.MULTILINE)
    assert len(rows) == len({code for code, _ in rows}), "a code has two rows in the summary table"
    assert {code: column.strip() for code, column in rows} == {code: _documented_exit(entry) for code, entry in ERROR_CODES.items()}
    for section in re.split(r"^### ", errors_md, flags=re.MULTILINE)[1:]:
        code, body = section.split("\n", 1)
        entry = ERROR_CODES[code]
        said = re.search(r"^Exit ([0-9]+)( when sealing, 1 when verifying)?\b", body, flags=re.MULTILINE)
        assert said is not None, code
        assert (int(said[1]), bool(said[2])) == (entry.exit_code, entry.sealing_refusal), code


def _code_blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def test_formats_worked_example_is_self_consistent(formats_md: str):
    envelope_text, manifest_text = _code_blocks(formats_md, "json")[:2]
    envelope_bytes = envelope_text.encode("utf-8")
    manifest_bytes = manifest_text.encode("utf-8")
    # Both blocks are canonical JSON, exactly as govern writes it.
    for data in (envelope_bytes, manifest_bytes):
        value = json.loads(data)
        assert data == (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    manifest = json.loads(manifest_bytes)
    entries = {entry["path"]: entry for entry in manifest["files"]}
    assert entries["report.md"] == {
        "path": "report.md",
        "sha256": hashlib.sha256(b"# report\n").hexdigest(),
        "bytes": len(b"# report\n"),
    }
    assert entries["run.json"] == {
        "path": "run.json",
        "sha256": hashlib.sha256(envelope_bytes).hexdigest(),
        "bytes": len(envelope_bytes),
    }
    assert json.loads(envelope_bytes)["run_id"] == manifest["run_id"]
    seal_lines = [block for block in _code_blocks(formats_md, "") if block.endswith("  manifest.json\n")]
    assert seal_lines == [f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n"]


def test_formats_example_matches_what_govern_writes(formats_md: str, tmp_path: Path):
    """Sealing the documented example reproduces the documented manifest (for this version)."""
    import govern
    from helpers import make_run, seal_in_process

    envelope_text, manifest_text = _code_blocks(formats_md, "json")[:2]
    envelope = json.loads(envelope_text)
    # A version bump changes run.json's bytes: the documented example must be regenerated
    # with it, never left to drift (so this fails rather than skips).
    assert envelope["tool"]["version"] == govern.__version__, "docs/formats.md: regenerate the worked example for this version"
    run = make_run(tmp_path, envelope["run_id"], {"report.md": b"# report\n"})
    seal_in_process(run, at=envelope["created_utc"], op_id=envelope["op_id"])
    assert (run / "run.json").read_text(encoding="utf-8") == envelope_text
    assert (run / "manifest.json").read_text(encoding="utf-8") == manifest_text


# --- issue 11 point 13: what a user or plugin author looks up -------------------------------

REPO = DOCS.parent


def test_the_stated_size_of_a_seal_is_a_real_seals(formats_md: str, tmp_path: Path):
    from helpers import make_run, seal_in_process

    stated = re.search(r"^Exactly one line, (\d+) bytes", formats_md, flags=re.MULTILINE)
    assert stated, "docs/formats.md no longer states the size of MANIFEST.sha256"
    run = make_run(tmp_path, files={"a.txt": b"a\n"})
    seal_in_process(run)
    assert int(stated[1]) == len((run / "MANIFEST.sha256").read_bytes()) == 80


def test_the_readme_names_the_distribution():
    import tomllib

    name = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    assert name == "govern-framework"
    assert f"`{name}`" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def configuration_md() -> str:
    from govern.governance.scaffold import STARTER_CONFIG

    # The generated config sends its reader here.
    assert "docs/configuration.md" in STARTER_CONFIG
    return (DOCS / "configuration.md").read_text(encoding="utf-8")


def _section_keys(markdown: str, heading: str) -> set[str]:
    """The backticked names in the first column of the tables under ``heading``."""
    start = markdown.index(f"\n{heading}\n")
    end = markdown.find("\n## ", start + 1)
    return set(re.findall(r"^\| `([\w.]+)` \|", markdown[start : end if end != -1 else None], flags=re.MULTILINE))


@pytest.mark.parametrize(
    "heading,settings",
    [
        ("## `[workspace]`", "WorkspaceSettings"),
        ("## `[plugins]`", "PluginSettings"),
        ("## `[registries.ID]`", "RegistryConfig"),
        ("## `[storage]`", "StorageOptions"),
        ("## `[policies]`", "Policy"),
    ],
)
def test_every_configuration_key_is_documented(configuration_md: str, heading: str, settings: str):
    import attrs

    from govern.config import workspace as config

    keys = {field.name for field in attrs.fields(getattr(config, settings))}
    assert _section_keys(configuration_md, heading) == keys


def test_every_built_in_kind_is_documented_with_its_requirements_options_and_keys(configuration_md: str):
    from govern.testing import plugin_host

    kinds = plugin_host().registry_kinds()
    rows = {
        kind: (plugin, requires, options, keys)
        for kind, plugin, requires, options, keys in re.findall(
            r"^\| `(\w+)` \| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|", configuration_md, flags=re.MULTILINE
        )
    }
    providers = plugin_host().registry_kind_providers()
    assert set(rows) == set(kinds)
    for name, kind in kinds.items():
        plugin, requires, options, keys = rows[name]
        assert plugin == providers[name][1], name
        assert requires.strip() == (", ".join(f"`{key}`" for key in kind.requires) or "nothing"), name
        assert options.strip() == (", ".join(f"`{key}`" for key in kind.accepted_options()) or "none"), name
        assert keys.strip() == (", ".join(f"`{key}`" for key in kind.keys) or "none"), name


def test_every_environment_variable_is_documented(configuration_md: str):
    used = {"SOURCE_DATE_EPOCH"}
    for folder in ("core", "plugins"):
        for source in (REPO / folder).rglob("*.py"):
            used.update(re.findall(r"\bGOVERN_[A-Z_]+\b", source.read_text(encoding="utf-8")))
    documented = _section_keys(configuration_md, "## Environment variables")
    assert sorted(used - documented) == [], "environment variables missing from docs/configuration.md"


def test_policies_md_documents_every_rule_in_order():
    from govern.format.policies import RULES

    text = (DOCS / "policies.md").read_text(encoding="utf-8")
    start = text.index("\n## The rules\n")
    table = text[start : text.index("\n## ", start + 1)]
    # The first column of each row names its rules (max_added / max_removed / max_modified share one).
    named = [name for cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.MULTILINE) for name in re.findall(r"`(\w+)`", cell)]
    assert [name for name in named if name in RULES] == list(RULES)
