"""Issue 12 point 3: ``GOVERN_TRACE_PLUGINS=1`` traces every hook call to stderr (pluggy's
hook-call monitoring): the hook, the plugin that answered, a summary of the result."""

from __future__ import annotations

from pathlib import Path

import pytest

from govern import hookimpl
from govern.format.models import RegistryKind
from govern.testing import ScratchWorkspace

ARTIFACT = "RUN_REGISTRY_v0_1.jsonl"
TRACE = {"GOVERN_TRACE_PLUGINS": "1"}


class Broken:
    """Declares kind ``acme`` and fails to say whether an acme registry is excluded."""

    @hookimpl
    def govern_registry_kinds(self) -> list[RegistryKind]:
        return [RegistryKind("acme", "the acme kind")]

    @hookimpl
    def govern_exclusion(self, registry, workspace):  # noqa: ANN001
        raise RuntimeError("acme is down")


@pytest.fixture
def ws(tmp_path: Path) -> ScratchWorkspace:
    workspace = ScratchWorkspace.create(
        tmp_path / "ws",
        {"run_registry": {"kind": "sealed", "artifact": ARTIFACT}, "db": {"kind": "external", "reason": "a database"}},
    )
    workspace.run("2024-01-01__000000__first", {ARTIFACT: "{}\n"})
    return workspace


def traces(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("govern: trace: ")]


def test_every_hook_call_is_one_line_naming_the_hook_the_answering_plugin_and_the_result(ws: ScratchWorkspace):
    result = ws.cli("--json", "delta", "build", "--at", "2024-02-01T00:00:00Z", env=TRACE)
    assert result.returncode == 0, result.stderr
    lines = traces(result.stderr)
    assert len(lines) == len(result.stderr_lines)  # nothing else on stderr, stdout still one document
    assert result.json()["result"]
    # Dispatched by kind: the kind's plugin is the one named.
    assert "govern: trace: govern_exclusion <- excluded_kinds: 'a database'" in lines
    assert "govern: trace: govern_exclusion <- sealed_registry: None" not in lines  # it has no such hook
    assert "govern: trace: govern_discover_snapshots <- sealed_registry: a list of 1" in lines
    assert any(line.startswith("govern: trace: govern_delta_basis <- manifest_diff: Delta(basis='manifest_diff'") for line in lines)
    assert any(line.startswith("govern: trace: govern_seal <- sha256_seal: SealResult(") for line in lines)
    # Collect hooks, plugin by plugin: each plugin's answer.
    assert "govern: trace: govern_registry_kinds <- excluded_kinds: a list of 2" in lines
    assert all(" <- " in line and ": " in line[len("govern: trace: ") :] for line in lines)


def test_a_hook_that_raises_is_traced_with_the_exception(ws: ScratchWorkspace):
    ws.add_registry("acme_db", kind="acme")
    result = ws.cli("delta", "build", "--at", "2024-02-01T00:00:00Z", plugins={"broken": Broken()}, env=TRACE)
    assert result.returncode == 2
    assert "govern: trace: govern_exclusion <- broken: raised RuntimeError: acme is down" in traces(result.stderr)
    assert result.stderr_lines[-1].startswith("govern: error: E_PLUGIN_FAILED: plugin broken (test plugin) raised in govern_exclusion")


def test_without_the_variable_nothing_is_traced(ws: ScratchWorkspace):
    for value in ("", "0"):
        result = ws.cli("delta", "build", "--at", "2024-02-01T00:00:00Z", "--dry-run", env={"GOVERN_TRACE_PLUGINS": value})
        assert result.returncode == 0, result.stderr
        assert traces(result.stderr) == []


def test_the_console_script_traces_to_stderr(ws: ScratchWorkspace):
    result = ws.cli_subprocess("registry", "list", env=TRACE)
    assert result.returncode == 0, result.stderr
    assert "govern: trace: govern_exclusion <- excluded_kinds: 'a database'" in result.stderr_lines
    assert "govern: trace:" not in result.stdout
