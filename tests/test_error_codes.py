"""Issue 12 point 6: every error code carries its exit code in one table, ``govern.errors.ERROR_CODES``.

A raise site names a code and never an exit code; the source is scanned (with ``ast``) to prove
it: every code literal given to ``GovernError``, ``GovernError.found``, a ``GovernError``
subclass or ``Problem`` in ``core/`` and ``plugins/`` is in the table, and no call passes
``exit_code=``. ``tests/test_docs.py`` keeps docs/errors.md's table equal to this one.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from govern import hookimpl
from govern.errors import ERROR_CODES, ExitCode, GovernError, Problem
from govern.format.models import RegistryKind
from govern.testing import invoke_cli, plugin_host
from helpers import make_run, seal_in_process

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("core", "plugins")
#: What the table's exit codes may be (docs/errors.md, "Summary"); 0 is success, never an error's.
ERROR_EXITS = {ExitCode.PROBLEMS, ExitCode.USAGE, ExitCode.LOCKED, ExitCode.INTERRUPTED}


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for folder in SOURCE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _error_subclasses(tree: ast.Module) -> set[str]:
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and any(isinstance(base, ast.Name) and base.id == "GovernError" for base in node.bases)
    }


def _raise_site_calls() -> Iterator[tuple[str, ast.Call]]:
    """Every call that makes an error or a problem: ``GovernError(…)``, ``GovernError.found(…)``,
    ``Problem(…)``, and ``super().__init__(…)`` inside a ``GovernError`` subclass; with ``file:line``."""
    for path, tree in _sources():
        makers = {"GovernError", "Problem"} | _error_subclasses(tree)
        subclass_bodies = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name in makers - {"GovernError", "Problem"}]
        super_inits = {
            id(call)
            for body in subclass_bodies
            for call in ast.walk(body)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "__init__"
            and isinstance(call.func.value, ast.Call)
            and isinstance(call.func.value.func, ast.Name)
            and call.func.value.func.id == "super"
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            named = isinstance(func, ast.Name) and func.id in makers
            found = isinstance(func, ast.Attribute) and func.attr == "found" and isinstance(func.value, ast.Name) and func.value.id == "GovernError"
            if named or found or id(node) in super_inits:
                yield f"{path.relative_to(REPO)}:{node.lineno}", node


def test_every_code_a_raise_site_names_is_in_the_table():
    literals = []
    for where, call in _raise_site_calls():
        first = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "code"), None)
        if isinstance(first, ast.Constant):
            literals.append((where, first.value))
    # The scan really sees the raise sites (there are well over a hundred), not an empty list.
    assert len(literals) > 150
    assert [(where, code) for where, code in literals if code not in ERROR_CODES] == []


def test_no_raise_site_chooses_its_own_exit_code():
    """The table is the one source: no call in core/ or plugins/ passes ``exit_code=``."""
    passing = [where for where, call in _raise_site_calls() if any(k.arg == "exit_code" for k in call.keywords)]
    anywhere = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and any(k.arg == "exit_code" for k in node.keywords)
    ]
    assert passing == [] and anywhere == []


def test_the_table_gives_each_code_its_exit_code_and_summary():
    for code, entry in ERROR_CODES.items():
        assert entry.code == code and code.startswith("E_")
        assert entry.exit_code in ERROR_EXITS, code
        assert entry.summary.strip() and "\n" not in entry.summary, code
        # Only refusals with exit 2 can also be a check's finding (exit 1).
        assert not entry.sealing_refusal or entry.exit_code == ExitCode.USAGE, code
    with pytest.raises(TypeError):
        ERROR_CODES["E_NEW"] = ERROR_CODES["E_USAGE"]  # type: ignore[index]


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_an_error_takes_its_exit_code_from_the_table(code: str):
    error = GovernError(code, "message")
    assert (error.code, error.message, error.exit_code) == (code, "message", ERROR_CODES[code].exit_code)


def test_the_table_keeps_the_special_exit_codes():
    assert GovernError("E_LOCKED", "x").exit_code == ExitCode.LOCKED == 3
    assert GovernError("E_INTERRUPTED", "x").exit_code == ExitCode.INTERRUPTED == 130
    assert GovernError("E_LOG_TAMPERED", "x").exit_code == ExitCode.PROBLEMS == 1
    assert GovernError("E_SYMLINK", "x").exit_code == ExitCode.USAGE == 2


def test_an_unknown_code_is_refused_at_construction():
    with pytest.raises(ValueError, match="undocumented error code 'E_ACME_BROKEN'"):
        GovernError("E_ACME_BROKEN", "a plugin's own code")
    with pytest.raises(TypeError):
        GovernError("E_USAGE", "no exit code of its own", exit_code=ExitCode.PROBLEMS)  # type: ignore[call-arg]


def test_a_plugin_refusing_with_a_code_of_its_own_is_a_plugin_failure():
    class OwnCode:
        @hookimpl
        def govern_registry_kinds(self) -> list[RegistryKind]:
            return [RegistryKind("acme", "the acme kind")]

        @hookimpl(tryfirst=True)
        def govern_exclusion(self, registry, workspace):  # noqa: ANN001
            raise GovernError("E_ACME_BROKEN", "nope")

    from govern.config.workspace import Registry, RegistryConfig

    host = plugin_host(("acme", OwnCode()))
    with pytest.raises(GovernError) as raised:
        host.exclusion(Registry("r", RegistryConfig(kind="acme", artifact="R.json")), None)
    assert raised.value.code == "E_PLUGIN_FAILED"
    assert raised.value.exit_code == ExitCode.USAGE
    assert "undocumented error code 'E_ACME_BROKEN'" in raised.value.message


def test_a_finding_stops_a_command_with_exit_1_whatever_its_code():
    problem = Problem("E_SYMLINK", "link", "symbolic links are refused, never followed")
    error = GovernError.found("E_SYMLINK", "run: seal does not verify", problems=(problem,))
    assert (error.code, error.exit_code, error.problems) == ("E_SYMLINK", ExitCode.PROBLEMS, (problem,))


def test_diff_of_a_run_whose_seal_check_finds_a_link_exits_1(tmp_path: Path):
    """The contract before the table: ``govern diff --deep`` exits 1 (a finding), not 2."""
    before = make_run(tmp_path, "2024-01-01__000000__before", {"f": b"1\n"})
    after = make_run(tmp_path, "2024-01-02__000000__after", {"f": b"2\n"})
    seal_in_process(before)
    seal_in_process(after)
    os.symlink("f", after / "link")
    result = invoke_cli("diff", "--deep", before, after)
    assert result.returncode == 1
    assert result.stderr_lines[0].startswith("govern: error: E_SYMLINK: 2024-01-02__000000__after: seal does not verify: link:")
