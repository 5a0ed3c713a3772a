"""``registry_config.toml`` errors and workspace discovery (docs/configuration.md; issue 2 item 3).

Each configuration error is checked through the CLI: exit 2 and exactly one
``govern: error: E_CONFIG_…`` line naming the file and the key path. A few extra cases run
in-process through :func:`govern.config.workspace.parse_config` for speed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govern.config.workspace import CONFIG_NAME, find_workspace_root, load_workspace, parse_config
from govern.errors import GovernError
from helpers import DEFAULT_AT, RUN_ID, make_run, run_govern, seal_in_process

VALID_REGISTRY = '[registries.run_registry]\nkind = "sealed"\nartifact = "RUN_REGISTRY_v0_1.jsonl"\n'


@pytest.fixture
def ws(workspace: Path, runs_root: Path) -> Path:
    """A workspace with one sealed run, so a valid config makes ``verify --all`` exit 0."""
    seal_in_process(make_run(runs_root, RUN_ID, {"RUN_REGISTRY_v0_1.jsonl": b"{}\n"}))
    return workspace


def write_config(ws: Path, text: str | bytes) -> Path:
    path = ws / CONFIG_NAME
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def config_error(ws: Path, code: str) -> str:
    """Run ``govern -C ws verify --all``; assert exit 2 and one CODE line naming the file."""
    result = run_govern("-C", ws, "verify", "--all")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"govern: error: {code}: "), result.stderr
    assert str(ws / CONFIG_NAME) in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def test_starter_config_is_valid(ws: Path):
    result = run_govern("-C", ws, "verify", "--all")
    assert result.returncode == 0, result.stderr
    write_config(ws, (ws / CONFIG_NAME).read_text(encoding="utf-8") + VALID_REGISTRY)
    assert run_govern("-C", ws, "verify", "--all").returncode == 0


def test_toml_syntax_error_names_line_and_column(ws: Path):
    write_config(ws, '[workspace]\nruns_root = ".codex/RUNS"\ndelta_log_artifact = \n')
    line = config_error(ws, "E_CONFIG_SYNTAX")
    assert "line 3" in line and "column" in line


def test_unknown_key(ws: Path):
    write_config(ws, '[workspace]\nruns_root = ".codex/RUNS"\nrunz_root = "typo"\n')
    line = config_error(ws, "E_CONFIG_INVALID")
    assert "runz_root" in line and "workspace" in line


def test_unknown_key_in_a_registry(ws: Path):
    write_config(ws, VALID_REGISTRY + 'artefact = "typo"\n')
    line = config_error(ws, "E_CONFIG_INVALID")
    assert "artefact" in line and "run_registry" in line


def test_wrong_type_is_not_coerced(ws: Path):
    # cattrs would happily turn 3 into "3"; a typo'd config must not pass silently.
    write_config(ws, "[workspace]\nruns_root = 3\n")
    line = config_error(ws, "E_CONFIG_INVALID")
    assert "workspace.runs_root" in line and "str" in line


def test_missing_required_key(ws: Path):
    write_config(ws, '[registries.run_registry]\nartifact = "RUN_REGISTRY_v0_1.jsonl"\n')
    line = config_error(ws, "E_CONFIG_INVALID")
    assert "run_registry" in line and "kind" in line and "missing" in line


def test_byte_order_mark(ws: Path):
    write_config(ws, b"\xef\xbb\xbf" + (ws / CONFIG_NAME).read_bytes())
    line = config_error(ws, "E_CONFIG_SYNTAX")
    assert "byte-order mark" in line


def test_invalid_utf8(ws: Path):
    write_config(ws, b'[workspace]\nruns_root = "caf\xe9"\n')
    line = config_error(ws, "E_CONFIG_SYNTAX")
    assert "UTF-8" in line


@pytest.mark.parametrize("registry_id", ["RunRegistry", "9lives", "has-dash", "a\\nb"])
def test_bad_registry_id(ws: Path, registry_id: str):
    write_config(ws, f'[registries."{registry_id}"]\nkind = "external"\nreason = "r"\n')
    line = config_error(ws, "E_CONFIG_INVALID")  # one line even for an id holding "\n"
    assert "registries" in line and "[a-z][a-z0-9_]*" in line


@pytest.mark.parametrize("artifact", ["../escape.jsonl", "/abs/file.jsonl", "a//b", "back\\\\slash"])
def test_unsafe_artifact_path(ws: Path, artifact: str):
    write_config(ws, f'[registries.run_registry]\nkind = "sealed"\nartifact = "{artifact}"\n')
    line = config_error(ws, "E_CONFIG_INVALID")
    assert "registries.run_registry.artifact" in line


def test_unknown_registry_kind(ws: Path):
    write_config(ws, '[registries.run_registry]\nkind = "no_such_kind"\nartifact = "x.jsonl"\n')
    # An error where the kind's code must run (a build)…
    result = run_govern("-C", ws, "delta", "build", "--at", DEFAULT_AT)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr_lines
    assert line.startswith(f"govern: error: E_CONFIG_UNKNOWN_KIND: {ws / CONFIG_NAME}: registries.run_registry.kind: ")
    assert "no_such_kind" in line
    # …a warning where only seals are checked (issue 11, point 7).
    checked = run_govern("-C", ws, "verify", "--all")
    assert checked.returncode == 0
    (warning,) = checked.stderr_lines
    assert warning.startswith(f"govern: warning: {ws / CONFIG_NAME}: registries.run_registry.kind: ") and "'govern'" in warning


def test_config_errors_in_json_mode(ws: Path):
    write_config(ws, "[workspace]\nruns_root = 3\n")
    result = run_govern("-C", ws, "--json", "verify", "--all")
    assert result.returncode == 2
    error = result.json()["error"]
    assert error["code"] == "E_CONFIG_INVALID"
    assert "workspace.runs_root" in error["message"]
    assert result.stderr == ""


# --- in-process: more shapes of wrong -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, key_path",
    [
        ('[plugins]\ndisable = "just-a-string"\n', "plugins.disable"),  # not split into letters
        ("[plugins]\ndisable = [1]\n", "plugins.disable[0]"),
        ("[workspace]\nruns_root = true\n", "workspace.runs_root"),
        ("[workspace]\nactive_pointers = 3\n", "workspace.active_pointers"),
        ("registries = 3\n", "registries"),
        ("[registries]\nrun_registry = 3\n", "registries['run_registry']"),
        ('[registries.r]\nkind = "sealed"\nartifact = "x"\noptions = 3\n', "options"),
        ('[registries.r]\nkind = 1\nartifact = "x"\n', "kind"),
        ("[nonsense]\n", "nonsense"),
        ('[workspace]\ndelta_log_artifact = "../log.jsonl"\n', "workspace.delta_log_artifact"),
    ],
)
def test_parse_config_rejects(text: str, key_path: str):
    with pytest.raises(GovernError) as raised:
        parse_config(text, Path("/cfg/registry_config.toml"))
    assert raised.value.code == "E_CONFIG_INVALID"
    assert "/cfg/registry_config.toml" in raised.value.message
    assert key_path in raised.value.message


def test_several_structure_errors_are_all_named():
    text = '[workspace]\nruns_root = 3\n[registries.r]\nartifact = "x"\n'
    with pytest.raises(GovernError) as raised:
        parse_config(text, Path("cfg.toml"))
    assert "workspace.runs_root" in raised.value.message and "kind" in raised.value.message


def test_parse_config_accepts_the_design_example():
    config = parse_config(
        """
[workspace]
runs_root = ".codex/RUNS"
delta_log_artifact = "REGISTRY_DELTA_LOG_v0_1.jsonl"
active_pointers = "governance/ACTIVE_REGISTRY_POINTERS_v0_1.json"

[plugins]
disable = []

[registries.run_registry]
kind = "sealed"
artifact = "RUN_REGISTRY_v0_1.jsonl"
schema = "schemas/REGISTRY_run_registry_v0_1.schema.json"

[registries.threshold_registry_db]
kind = "external"
reason = "External database"
""",
        Path("cfg.toml"),
    )
    assert config.registries["run_registry"].artifact == "RUN_REGISTRY_v0_1.jsonl"
    assert config.registries["threshold_registry_db"].kind == "external"
    assert config.workspace.active_pointers == "governance/ACTIVE_REGISTRY_POINTERS_v0_1.json"


# --- discovery --------------------------------------------------------------------------------


def test_discovery_walks_up_from_a_subdirectory(ws: Path):
    deep = ws / "governance" / "deeper" / "still"
    deep.mkdir(parents=True)
    result = run_govern("--json", "verify", "--all", cwd=deep)
    assert result.returncode == 0, result.stdout
    assert [r["run_id"] for r in result.json()["result"]["runs"]] == [RUN_ID]
    assert find_workspace_root(start=deep) == ws.resolve()


def test_explicit_workspace_wins_over_the_current_directory(ws: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    result = run_govern("-C", ws, "--json", "verify", "--all", cwd=other)
    assert result.returncode == 0
    assert result.json()["result"]["verified"] == 1
    assert load_workspace(explicit=ws).root == ws.resolve()


def test_nearest_workspace_is_used(ws: Path):
    # A nested workspace shadows the outer one, like a nested git repository.
    inner = ws / "governance" / "inner"
    assert run_govern("init", inner).returncode == 0
    seal_in_process(make_run(inner / ".codex" / "RUNS", "2030-01-01__000000__inner", {"i": b"i"}))
    result = run_govern("--json", "verify", "--all", cwd=inner / "schemas")
    assert result.returncode == 0, result.stdout
    assert [r["run_id"] for r in result.json()["result"]["runs"]] == ["2030-01-01__000000__inner"]


def test_workspace_not_found(tmp_path: Path):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    result = run_govern("verify", "--all", cwd=lonely)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("govern: error: E_WORKSPACE_NOT_FOUND: ")
    assert str(lonely) in lines[0]


def test_explicit_workspace_not_found(tmp_path: Path, ws: Path):
    # -C never falls back to walking up, even from inside another workspace.
    result = run_govern("-C", tmp_path / "nowhere", "verify", "--all", cwd=ws)
    assert result.returncode == 2
    assert result.stderr.startswith("govern: error: E_WORKSPACE_NOT_FOUND: ")
    assert "nowhere" in result.stderr


def test_a_directory_named_like_the_config_is_not_a_workspace(tmp_path: Path):
    (tmp_path / CONFIG_NAME).mkdir()
    with pytest.raises(GovernError) as raised:
        find_workspace_root(explicit=tmp_path)
    assert raised.value.code == "E_WORKSPACE_NOT_FOUND"


def test_init_then_seal_then_verify_by_run_id(ws: Path):
    run = make_run(ws / ".codex" / "RUNS", "2024-05-05__050505__second", {"x": b"x"})
    assert run_govern("seal", run, "--at", DEFAULT_AT).returncode == 0
    assert run_govern("verify", run.name, cwd=ws / "schemas").returncode == 0
