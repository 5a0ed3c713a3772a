"""``govern registry list | show | add`` on the reference workspace and on scratch workspaces.

The reference workspace must list the seed's 8 covered and 4 excluded-by-design registries
(with the seed's reasons, verbatim); ``add`` must append a checked table atomically, keeping
the rest of the file byte for byte, and write nothing on any refusal.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from govern import hookimpl
from govern.format.models import RegistryKind
from govern.store.locking import exclusive_lock
from govern.testing import ScratchWorkspace, invoke_cli, make_sealed_run
from helpers import run_govern
from test_reference_workspace import SEED_EXCLUDED, SEED_SNAPSHOTS

REPO = Path(__file__).resolve().parent.parent
BUILD_AT = "2026-03-01T00:00:00Z"


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """A scratch copy of the committed reference workspace."""
    root = tmp_path / "reference"
    root.mkdir()
    shutil.copy2(REPO / "registry_config.toml", root / "registry_config.toml")
    for folder in ("governance", "schemas"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copytree(REPO / ".codex" / "RUNS", root / ".codex" / "RUNS", ignore=shutil.ignore_patterns(".govern.lock"))
    return root


def listing(root: Path) -> dict:
    result = run_govern("-C", root, "--json", "registry", "list")
    assert result.returncode == 0, result.stderr
    return result.json()["result"]


# ------------------------------------------------------------------------------ list / show


def test_the_reference_workspace_lists_8_covered_and_4_excluded_with_the_seeds_reasons(reference: Path):
    result = listing(reference)
    assert result["counts"] == {"covered": 8, "excluded": 4, "skipped": 0}
    registries = {r["registry_id"]: r for r in result["registries"]}
    assert {rid: r["snapshots"] for rid, r in registries.items() if r["status"] == "covered"} == SEED_SNAPSHOTS
    excluded = {rid: (r["kind"], r["reason"]) for rid, r in registries.items() if r["status"] == "excluded"}
    assert excluded == SEED_EXCLUDED
    text = run_govern("-C", reference, "registry", "list")
    assert text.stdout.splitlines()[0] == "12 registries: 8 covered, 0 skipped, 4 excluded by design (no delta log yet)"
    for registry_id, (kind, reason) in SEED_EXCLUDED.items():
        assert f"  {registry_id:<28} {kind:<14} excluded by design: {reason}" in text.stdout.splitlines()


def test_the_build_summary_reports_the_excluded_registries_by_design_with_their_reasons(reference: Path):
    built = run_govern("-C", reference, "--json", "delta", "build", "--at", BUILD_AT)
    assert built.returncode == 0, built.stderr
    result = built.json()["result"]
    assert (result["covered"], result["excluded"], result["skipped"]) == (8, 4, 0)
    excluded = {o["registry_id"]: (o["kind"], o["reason"]) for o in result["registries"] if o["status"] == "excluded"}
    assert excluded == SEED_EXCLUDED


def test_list_shows_the_last_recorded_snapshot_and_what_is_new(reference: Path):
    assert run_govern("-C", reference, "delta", "build", "--at", BUILD_AT).returncode == 0
    registries = {r["registry_id"]: r for r in listing(reference)["registries"]}
    run_registry = registries["run_registry"]
    assert (run_registry["records"], run_registry["new_snapshots"]) == (8, 0)
    assert run_registry["last_recorded"]["run_id"] == "2026-02-02__101500__system_health_render"
    make_sealed_run(reference / ".codex" / "RUNS", "2026-02-20__000000__late_run", {"RUN_REGISTRY_v0_1.jsonl": "{}\n"})
    registries = {r["registry_id"]: r for r in listing(reference)["registries"]}
    assert (registries["run_registry"]["snapshots"], registries["run_registry"]["new_snapshots"]) == (9, 1)
    text = run_govern("-C", reference, "registry", "list").stdout
    assert "covered: 9 snapshots; last recorded 2026-02-02__101500__system_health_render (8 records, 1 new)" in text


def test_show_gives_the_config_the_kind_and_every_snapshot(reference: Path):
    assert run_govern("-C", reference, "delta", "build", "--at", BUILD_AT).returncode == 0
    result = run_govern("-C", reference, "--json", "registry", "show", "drift_signals")
    assert result.returncode == 0, result.stderr
    shown = result.json()["result"]
    assert shown["kind_plugin"] == "sealed_registry"
    assert shown["schema"] == "schemas/REGISTRY_drift_signals_v0_1.schema.json"
    assert [(s["run_id"], s["status"], s["recorded"]) for s in shown["snapshot_list"]] == [
        ("2026-01-09__103040__drift_scan", "sealed", True),
        ("2026-01-20__093000__drift_scan", "sealed", True),
        ("2026-01-29__084510__drift_scan", "sealed", True),
    ]
    assert shown["records"] == 3
    assert shown["latest_build"] == "2026-03-01__000000__registry_delta_log_build"
    text = run_govern("-C", reference, "registry", "show", "drift_signals").stdout.splitlines()
    assert text[0] == "drift_signals"
    assert "  recorded     3 records in 2026-03-01__000000__registry_delta_log_build" in text
    assert "    2026-01-20__093000__drift_scan  sealed   recorded" in text


def test_show_an_excluded_registry(reference: Path):
    shown = run_govern("-C", reference, "--json", "registry", "show", "threshold_registry_db").json()["result"]
    assert (shown["status"], shown["reason"], shown["snapshots"]) == ("excluded", SEED_EXCLUDED["threshold_registry_db"][1], None)
    assert shown["kind_plugin"] == "excluded_kinds"


def test_show_an_unknown_registry_names_the_configured_ones(reference: Path):
    result = run_govern("-C", reference, "registry", "show", "nope")
    assert result.returncode == 2
    assert "E_REGISTRY_UNKNOWN" in result.stderr and "no registry 'nope'" in result.stderr and "run_registry" in result.stderr


def test_a_registry_no_plugin_discovers_is_skipped_and_says_why(tmp_path: Path):
    class KindOnly:
        @hookimpl
        def govern_registry_kinds(self):
            return [RegistryKind("ledger", "declared, never discovered")]

    workspace = ScratchWorkspace.create(tmp_path / "ws", {"books": {"kind": "ledger"}})
    result = invoke_cli("-C", workspace.root, "--json", "registry", "list", plugins={"ledger": KindOnly()})
    assert result.returncode == 0, result.stderr
    (books,) = result.json()["result"]["registries"]
    assert (books["status"], books["reason"]) == ("skipped", "no installed plugin discovers snapshots of kind 'ledger'")


def test_a_delta_log_that_cannot_be_read_does_not_stop_the_listing(reference: Path):
    assert run_govern("-C", reference, "delta", "build", "--at", BUILD_AT).returncode == 0
    envelope = reference / ".codex" / "RUNS" / "2026-03-01__000000__registry_delta_log_build" / "run.json"
    envelope.write_text(envelope.read_text(encoding="utf-8").replace("OP-QA11", "OP-XX99"), encoding="utf-8")
    result = run_govern("-C", reference, "--json", "registry", "list")
    assert result.returncode == 0
    document = result.json()
    assert len(document["warnings"]) == 1 and "the delta log could not be read" in document["warnings"][0]
    assert document["result"]["counts"] == {"covered": 8, "excluded": 4, "skipped": 0}


# ------------------------------------------------------------------------------ add


def test_add_appends_a_checked_table_and_keeps_the_rest_of_the_file(reference: Path):
    config = reference / "registry_config.toml"
    before = config.read_bytes()
    result = run_govern(
        "-C", reference, "registry", "add", "audit_trail", "--kind", "sealed", "--artifact", "AUDIT_TRAIL_v0_1.jsonl",
        "--description", "Who did what", "--schema", "schemas/REGISTRY_run_registry_v0_1.schema.json",
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    after = config.read_bytes()
    assert after.startswith(before)  # comments, order and formatting untouched
    assert after[len(before):].decode("utf-8") == (
        "\n[registries.audit_trail]\n"
        'kind = "sealed"\n'
        'description = "Who did what"\n'
        'artifact = "AUDIT_TRAIL_v0_1.jsonl"\n'
        'schema = "schemas/REGISTRY_run_registry_v0_1.schema.json"\n'
    )
    assert tomllib.loads(after.decode("utf-8"))["registries"]["audit_trail"]["kind"] == "sealed"
    registries = {r["registry_id"]: r for r in listing(reference)["registries"]}
    assert registries["audit_trail"]["status"] == "covered" and registries["audit_trail"]["snapshots"] == 0


def test_add_an_excluded_registry_gets_its_kinds_default_reason(reference: Path):
    assert run_govern("-C", reference, "registry", "add", "warehouse", "--kind", "external").returncode == 0
    registries = {r["registry_id"]: r for r in listing(reference)["registries"]}
    assert (registries["warehouse"]["status"], registries["warehouse"]["reason"]) == (
        "excluded",
        "External system — cannot compute manifest diffs from repo evidence",
    )


class KeyedKind:
    """A kind declaring two options, one of them required."""

    @hookimpl
    def govern_registry_kinds(self):
        return [RegistryKind("keyed", "sealed runs keyed by a field", requires=("artifact", "options.key"), options={"note": "free text"})]


def test_add_writes_options_as_a_table(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    result = invoke_cli("-C", workspace.root, "--json", "registry", "add", "r", "--kind", "keyed", "--artifact", "R.jsonl",
                        "--option", "key=run_id", "--option", "note=a = b", plugins={"keyed": KeyedKind()})
    assert result.returncode == 0, result.stderr
    assert result.json()["result"]["table"] == {"kind": "keyed", "artifact": "R.jsonl", "options": {"key": "run_id", "note": "a = b"}}
    config = tomllib.loads((workspace.root / "registry_config.toml").read_text(encoding="utf-8"))
    assert config["registries"]["r"]["options"] == {"key": "run_id", "note": "a = b"}


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["run_registry", "--kind", "sealed", "--artifact", "X"], "E_REGISTRY_EXISTS", "registries.run_registry already exists (kind 'sealed')"),
        (["new_one", "--kind", "seald", "--artifact", "X"], "E_CONFIG_UNKNOWN_KIND", "no installed plugin handles kind 'seald' (installed kinds: bagit, collection, external, git, ocfl_object, presentation, sealed, sql_table)"),
        (["new_one", "--kind", "sealed"], "E_CONFIG_INVALID", "registries.new_one.artifact: required for kind 'sealed'; nothing written"),
        (["New-One", "--kind", "external"], "E_USAGE", "registry id 'New-One' must match [a-z][a-z0-9_]*"),
        (["new_one", "--kind", "sealed", "--artifact", "../escape"], "E_CONFIG_INVALID", "registries.new_one.artifact"),
        (["new_one", "--kind", "external", "--option", "novalue"], "E_USAGE", "--option 'novalue': expected KEY=VALUE"),
        (["new_one", "--kind", "external", "--option", "a=1", "--option", "a=2"], "E_USAGE", "--option 'a' given twice"),
    ],
    ids=["exists", "unknown-kind", "missing-artifact", "bad-id", "unsafe-artifact", "bad-option", "duplicate-option"],
)
def test_add_refuses_and_writes_nothing(reference: Path, args: list[str], code: str, message: str):
    config = reference / "registry_config.toml"
    before = config.read_bytes()
    result = run_govern("-C", reference, "registry", "add", *args)
    assert result.returncode == 2
    assert len(result.stderr_lines) == 1 and code in result.stderr and message in result.stderr, result.stderr
    assert config.read_bytes() == before


# Issue 11 point 9: `--option tpyo=1` was written although unknown keys are errors.
@pytest.mark.parametrize(
    "args,message",
    [
        (["--kind", "sealed", "--artifact", "X.json", "--option", "tpyo=1"],
         "registries.new_one.options.tpyo: unknown option for kind 'sealed' (it accepts no options); nothing written"),
        (["--kind", "keyed", "--artifact", "X.json", "--option", "key=id", "--option", "nite=x"],
         "registries.new_one.options.nite: unknown option for kind 'keyed' (it accepts: key, note); nothing written"),
    ],
    ids=["kind-without-options", "kind-with-options"],
)
def test_add_refuses_an_option_the_kind_does_not_declare(tmp_path: Path, args: list[str], message: str):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    config = workspace.root / "registry_config.toml"
    before = config.read_bytes()
    result = invoke_cli("-C", workspace.root, "registry", "add", "new_one", *args, plugins={"keyed": KeyedKind()})
    assert result.returncode == 2
    assert result.stderr_lines == [f"govern: error: E_CONFIG_INVALID: {config}: {message}"]
    assert config.read_bytes() == before


def test_an_undeclared_option_in_the_config_stops_commands_that_run_the_kind(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"r": {"kind": "sealed", "artifact": "R.jsonl", "options": {"tpyo": "1"}}})
    for command in (["registry", "list"], ["delta", "build", "--dry-run"]):
        result = run_govern("-C", workspace.root, *command)
        assert result.returncode == 2, command
        assert "registries.r.options.tpyo: unknown option for kind 'sealed' (it accepts no options)" in result.stderr


def test_add_takes_a_folder_artifact_with_a_trailing_slash(tmp_path: Path):
    """`--artifact reports/` was refused with "add it by hand", which failed the same way."""
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    workspace.run("2026-01-01__000000__report", {"reports/a.md": "a", "reports/b.md": "b"})
    result = run_govern("-C", workspace.root, "registry", "add", "reports", "--kind", "sealed", "--artifact", "reports/")
    assert result.returncode == 0, result.stderr
    assert 'artifact = "reports"' in result.stdout
    config = tomllib.loads((workspace.root / "registry_config.toml").read_text(encoding="utf-8"))
    assert config["registries"]["reports"]["artifact"] == "reports"
    (reports,) = listing(workspace.root)["registries"]
    assert (reports["status"], reports["snapshots"]) == ("covered", 1)


def test_a_hand_written_trailing_slash_gets_advice_that_works(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    config = workspace.root / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[registries.reports]\nkind = "sealed"\nartifact = "reports/"\n', encoding="utf-8")
    refused = run_govern("-C", workspace.root, "registry", "list")
    assert refused.returncode == 2
    assert refused.stderr_lines == [
        f"govern: error: E_CONFIG_INVALID: {config}: registries.reports.artifact: path ends with '/' "
        "(a folder artifact is written without it: artifact = 'reports')"
    ]
    advice = refused.stderr.split("written without it: ")[1].rstrip(")\n")
    config.write_text(config.read_text(encoding="utf-8").replace('artifact = "reports/"', advice), encoding="utf-8")
    assert listing(workspace.root)["registries"][0]["artifact"] == "reports"


def test_add_dry_run_checks_and_writes_nothing(reference: Path):
    config = reference / "registry_config.toml"
    before = config.read_bytes()
    result = run_govern("-C", reference, "--json", "registry", "add", "lake", "--kind", "external", "--reason", "A data lake", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.json()["result"]["written"] is False
    assert result.json()["result"]["appended"] == '[registries.lake]\nkind = "external"\nreason = "A data lake"\n'
    assert config.read_bytes() == before


def test_add_refuses_a_file_whose_registries_a_new_table_cannot_extend(tmp_path: Path):
    root = tmp_path / "ws"
    ScratchWorkspace.create(root)
    config = root / "registry_config.toml"
    config.write_text('registries = { a = { kind = "external" } }\n', encoding="utf-8")
    before = config.read_bytes()
    result = run_govern("-C", root, "registry", "add", "b", "--kind", "external")
    assert result.returncode == 2
    assert "appending [registries.b] would make the file invalid" in result.stderr
    assert config.read_bytes() == before


def test_add_keeps_crlf_line_endings(tmp_path: Path):
    root = tmp_path / "ws"
    ScratchWorkspace.create(root)
    config = root / "registry_config.toml"
    config.write_bytes(b"# comment\r\n[workspace]\r\nruns_root = \".codex/RUNS\"\r\n")
    assert run_govern("-C", root, "registry", "add", "b", "--kind", "external").returncode == 0
    assert config.read_bytes() == b'# comment\r\n[workspace]\r\nruns_root = ".codex/RUNS"\r\n\r\n[registries.b]\r\nkind = "external"\r\n'


def test_add_waits_for_the_workspace_lock_and_gives_up_with_exit_3(reference: Path):
    config = reference / "registry_config.toml"
    before = config.read_bytes()
    with exclusive_lock(reference / ".codex" / "RUNS" / ".govern.lock", 1):
        result = run_govern("-C", reference, "--lock-timeout", "0.2", "registry", "add", "lake", "--kind", "external")
    assert result.returncode == 3 and "E_LOCKED" in result.stderr
    assert config.read_bytes() == before


def test_add_help_says_comments_are_kept(reference: Path):
    result = run_govern("registry", "add", "--help", cwd=reference)
    assert result.returncode == 0
    flat = " ".join(result.stdout.split())
    assert "append a new registries.ID table to registry_config.toml" in flat
    assert "comments and formatting elsewhere in it are kept exactly as they are" in flat


def test_a_registry_added_is_built(reference: Path):
    assert run_govern("-C", reference, "registry", "add", "audit_trail", "--kind", "sealed", "--artifact", "AUDIT.jsonl").returncode == 0
    make_sealed_run(reference / ".codex" / "RUNS", "2026-02-10__000000__audit", {"AUDIT.jsonl": '{"who": "me"}\n'})
    built = run_govern("-C", reference, "--json", "delta", "build", "--at", BUILD_AT)
    assert built.returncode == 0, built.stderr
    outcomes = {o["registry_id"]: o for o in built.json()["result"]["registries"]}
    assert outcomes["audit_trail"]["status"] == "covered" and outcomes["audit_trail"]["records_total"] == 1
    assert built.json()["result"]["covered"] == 9


def test_json_output_is_one_document(reference: Path):
    result = run_govern("-C", reference, "--json", "registry", "list")
    assert json.loads(result.stdout)["command"] == "registry list"


# ---------------------------------------------------------------- kind-specific registry-level keys
# A key like ``dsn`` belongs to the kinds that declare it (RegistryKind.keys): on a registry of
# another kind it was silently accepted and ignored.


@pytest.mark.parametrize(
    "table,message",
    [
        ({"kind": "sealed", "artifact": "R.jsonl", "dsn": "sqlite:///db.sqlite"}, "registries.r.dsn: not a key of kind 'sealed' (kind sql_table uses it)"),
        ({"kind": "external", "repo": "repo"}, "registries.r.repo: not a key of kind 'external' (kind git uses it)"),
        ({"kind": "git", "repo": "repo", "ref": "main", "order_by": "name"}, "registries.r.order_by: not a key of kind 'git' (kind bagit uses it)"),
        ({"kind": "sealed", "artifact": "R.jsonl", "path": "x"}, "registries.r.path: not a key of kind 'sealed' (kinds bagit, git, ocfl_object use it)"),
        ({"kind": "sql_table", "dsn": "sqlite:///db.sqlite", "table": "t", "pattern": "*"}, "registries.r.pattern: not a key of kind 'sql_table' (kind collection uses it)"),
    ],
    ids=["dsn-on-sealed", "repo-on-external", "order_by-on-git", "path-on-sealed", "pattern-on-sql_table"],
)
def test_a_key_the_kind_does_not_use_is_a_configuration_error(tmp_path: Path, table: dict, message: str):
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"r": table})
    result = run_govern("-C", workspace.root, "registry", "list")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr_lines == [f"govern: error: E_CONFIG_INVALID: {workspace.root / 'registry_config.toml'}: {message}"]


def test_add_refuses_a_key_the_kind_does_not_use_and_writes_nothing(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    config = workspace.root / "registry_config.toml"
    before = config.read_bytes()
    result = run_govern("-C", workspace.root, "registry", "add", "r", "--kind", "sealed", "--artifact", "R.jsonl", "--dsn", "sqlite:///db.sqlite")
    assert result.returncode == 2
    assert result.stderr_lines == [
        f"govern: error: E_CONFIG_INVALID: {config}: registries.r.dsn: not a key of kind 'sealed' (kind sql_table uses it); nothing written"
    ]
    assert config.read_bytes() == before


@pytest.mark.parametrize(
    "args,table",
    [
        (["--kind", "ocfl_object", "--path", "store", "--object-id", "ark:/1"], {"kind": "ocfl_object", "path": "store", "object_id": "ark:/1"}),
        (["--kind", "bagit", "--path", "deposits", "--order-by", "name"], {"kind": "bagit", "path": "deposits", "order_by": "name"}),
        (["--kind", "git", "--repo", "repo", "--ref", "refs/heads/main", "--path", "data"], {"kind": "git", "repo": "repo", "ref": "refs/heads/main", "path": "data"}),
    ],
    ids=["ocfl_object", "bagit", "git"],
)
def test_add_writes_the_keys_of_kinds_kept_outside_the_runs_root(tmp_path: Path, args: list[str], table: dict):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    result = run_govern("-C", workspace.root, "registry", "add", "r", *args, "--dry-run")
    assert result.returncode == 0, result.stderr
    result = run_govern("-C", workspace.root, "registry", "add", "r", *args)
    assert result.returncode == 0, result.stderr
    assert tomllib.loads((workspace.root / "registry_config.toml").read_text(encoding="utf-8"))["registries"]["r"] == table


def test_add_requires_the_keys_of_a_kind_kept_outside_the_runs_root(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    result = run_govern("-C", workspace.root, "registry", "add", "r", "--kind", "git", "--repo", "repo")
    assert result.returncode == 2
    assert "registries.r.ref: required for kind 'git'; nothing written" in result.stderr


def test_a_setting_left_in_the_options_table_says_where_it_goes_now(tmp_path: Path):
    """Issue 16 first read ``[registries.ID.options] path``; the contract has ``path`` on the registry."""
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"obj": {"kind": "ocfl_object", "options": {"path": "object"}}})
    result = run_govern("-C", workspace.root, "registry", "list")
    assert result.returncode == 2
    assert result.stderr_lines == [
        f"govern: error: E_CONFIG_INVALID: {workspace.root / 'registry_config.toml'}: registries.obj.options.path: unknown option for kind "
        "'ocfl_object' (it accepts no options); path is a key of the registry itself now: set registries.obj.path"
    ]


class StrayKeyKind:
    """A third-party kind declaring a registry-level key no configuration can hold."""

    @hookimpl
    def govern_registry_kinds(self):
        return [RegistryKind("stray", "declares a key RegistryConfig lacks", keys=("dsn", "colour"))]


def test_a_kind_declaring_a_key_registries_cannot_have_is_a_plugin_error(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws")
    result = invoke_cli("-C", workspace.root, "registry", "list", plugins={"stray": StrayKeyKind()})
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr_lines
    assert line.startswith("govern: error: E_PLUGIN_FAILED: govern_registry_kinds of plugin stray: kind 'stray' declares keys 'colour'")


class SharedKeyKind:
    """A third-party kind using a registry-level key a built-in kind uses too."""

    @hookimpl
    def govern_registry_kinds(self):
        return [RegistryKind("mirror", "a folder elsewhere", requires=("path",), keys=("path",), excluded=True)]


def test_a_third_party_kind_may_use_a_registry_level_key(tmp_path: Path):
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"m": {"kind": "mirror", "path": "elsewhere"}, "s": {"kind": "sealed", "artifact": "A", "path": "x"}})
    result = invoke_cli("-C", workspace.root, "registry", "list", plugins={"mirror": SharedKeyKind()})
    assert result.returncode == 2
    assert "registries.s.path: not a key of kind 'sealed' (kinds bagit, git, mirror, ocfl_object use it)" in result.stderr
    del workspace.registries["s"]
    workspace.write_config()
    result = invoke_cli("-C", workspace.root, "registry", "list", plugins={"mirror": SharedKeyKind()})
    assert result.returncode == 0, result.stderr


def test_show_names_the_kind_keys_a_registry_sets(tmp_path: Path):
    """With the settings out of ``options``, ``registry show`` still says where the source is."""
    workspace = ScratchWorkspace.create(tmp_path / "ws", {"t": {"kind": "sql_table", "dsn": "sqlite:///db.sqlite", "table": "limits"}})
    shown = run_govern("-C", workspace.root, "registry", "show", "t")
    assert shown.returncode == 0, shown.stderr
    assert "  keys         dsn = 'sqlite:///db.sqlite', table = 'limits'" in shown.stdout.splitlines()
    as_json = run_govern("-C", workspace.root, "--json", "registry", "show", "t")
    assert json.loads(as_json.stdout)["result"]["keys"] == {"dsn": "sqlite:///db.sqlite", "table": "limits"}
