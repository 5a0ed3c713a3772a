"""Issue 11 point 12 ("what users expected and did not find") and the ``delta show`` part of
point 10: the queries and admin commands a new user reached for.

- ``delta show`` lists changed paths per transition (``git log --name-status`` style) and
  filters ``--since``/``--until``/``--limit``/``--run``; before any build it says "no delta
  log yet" and exits 0 (``test_delta_build.py`` pins that too);
- ``govern diff RUN_A RUN_B`` for any two sealed runs;
- ``--path`` takes ``./x``, ``x/``, a path under a run folder, an absolute path inside the
  workspace, and refuses one outside it (E_PATH_OUTSIDE);
- ``seal --op`` warns about an uncatalogued operation, ``governance check`` flags runs made
  by one; ``seal --input/--param`` fill run.json;
- ``governance remove-op`` and ``registry remove``.

Every command runs as the installed console script in a subprocess: its output, exit code
and the files it writes (or does not) are the contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delta_workspace import DeltaWorkspace, assert_refused, build_at
from governance_books import CATALOG, MATRIX, REGISTRY_CATALOG, SCORECARD, gov, governance_state, read
from helpers import make_run, run_govern, seal_in_process, tree_state

ALPHA = "ALPHA.json"
BETA = "beta_dir"
REGISTRIES = {"alpha": {"kind": "sealed", "artifact": ALPHA}, "beta": {"kind": "sealed", "artifact": BETA}}
#: Changelog clock: after the books 'govern init' dates with the real clock.
LATER_AT = "2099-01-01T00:00:00Z"
ONE = "2024-01-01__000000__one"
TWO = "2024-01-05__120000__two"
LEGACY = "2024-01-10__000000__legacy"
FOUR = "2024-01-20__000000__four"


@pytest.fixture
def ws(tmp_path: Path) -> DeltaWorkspace:
    """alpha: three sealed snapshots and an unsealed legacy one; beta: a folder artifact."""
    ws = DeltaWorkspace.create(tmp_path / "ws", REGISTRIES)
    ws.run(ONE, {ALPHA: "1\n", f"{BETA}/a.txt": "a\n", f"{BETA}/b.txt": "b\n"})
    ws.run(TWO, {ALPHA: "2\n", f"{BETA}/a.txt": "a2\n", f"{BETA}/c.txt": "c\n"})
    ws.run(LEGACY, {ALPHA: "3\n"}, seal=False)
    ws.run(FOUR, {ALPHA: "4\n", f"{BETA}/a.txt": "a2\n", f"{BETA}/c.txt": "c\n"})
    ws.build_ok("--allow-unknown", at=build_at(1))
    return ws


def _blocks(stdout: str) -> list[list[str]]:
    """The transitions of ``delta show`` text: blank-line separated blocks, header first."""
    blocks = [block.splitlines() for block in stdout.strip().split("\n\n")]
    return blocks[1:-1]  # the first names the build, the last counts


# --------------------------------------------------------------------------- delta show


def test_delta_show_lists_changed_paths_per_transition_like_git_name_status(ws: DeltaWorkspace) -> None:
    result = ws.govern("delta", "show", "--registry", "beta")
    assert result.returncode == 0, result.stderr
    assert _blocks(result.stdout) == [
        [f"beta: (bootstrap) → {ONE}  [manifest_diff]  2 added, 0 removed, 0 modified", f"A\t{BETA}/a.txt", f"A\t{BETA}/b.txt"],
        [
            f"beta: {ONE} → {TWO}  [manifest_diff]  1 added, 1 removed, 1 modified",
            f"M\t{BETA}/a.txt",
            f"D\t{BETA}/b.txt",
            f"A\t{BETA}/c.txt",
        ],
        [f"beta: {TWO} → {FOUR}  [manifest_diff]  no changes"],
    ]
    assert result.stdout.strip().splitlines()[-1] == "3 transitions shown"


def test_delta_show_says_unknown_with_its_reason_never_zero_changes(ws: DeltaWorkspace) -> None:
    result = ws.govern("delta", "show", "--registry", "alpha")
    headers = [block[0] for block in _blocks(result.stdout)]
    unknown = [header for header in headers if "[unknown]" in header]
    assert len(unknown) == 2, result.stdout  # into and out of the legacy folder
    for header in unknown:
        assert "changes unknown" in header and "no seal" in header, header
        assert "no changes" not in header and " 0 " not in header
    as_json = ws.govern("delta", "show", "--registry", "alpha", "--json").json()["result"]
    into_legacy = next(t for t in as_json["transitions"] if t["to_run_id"] == LEGACY)
    assert into_legacy["counts"] == {"added": None, "removed": None, "modified": None}
    assert into_legacy["changes"] == [] and "no seal" in into_legacy["unknown_reason"]


def test_delta_show_json_carries_the_same_structure(ws: DeltaWorkspace) -> None:
    result = ws.govern("delta", "show", "--registry", "beta", "--run", TWO, "--json")
    assert result.returncode == 0, result.stderr
    data = result.json()["result"]
    assert data["filters"]["run"] == TWO and data["filters"]["registry"] == "beta"
    assert data["transitions"] == [
        {
            "registry_id": "beta",
            "from_run_id": ONE,
            "to_run_id": TWO,
            "delta_basis": "manifest_diff",
            "counts": {"added": 1, "removed": 1, "modified": 1},
            "unknown_reason": None,
            "changes": [
                {"status": "M", "path": f"{BETA}/a.txt"},
                {"status": "D", "path": f"{BETA}/b.txt"},
                {"status": "A", "path": f"{BETA}/c.txt"},
            ],
        },
        {
            "registry_id": "beta",
            "from_run_id": TWO,
            "to_run_id": FOUR,
            "delta_basis": "manifest_diff",
            "counts": {"added": 0, "removed": 0, "modified": 0},
            "unknown_reason": None,
            "changes": [],
        },
    ]
    assert [r["to_ref"]["run_id"] for r in data["records"]] == [TWO, FOUR]


def _shown(ws: DeltaWorkspace, *args: str) -> list[tuple[str, str]]:
    result = ws.govern("delta", "show", "--json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return [(t["registry_id"], t["to_run_id"]) for t in result.json()["result"]["transitions"]]


def test_delta_show_filters_by_snapshot_time_run_and_limit(ws: DeltaWorkspace) -> None:
    everything = _shown(ws)
    assert len(everything) == 7
    # --since/--until bound the time of the snapshot a transition leads to (inclusive).
    assert _shown(ws, "--since", "2024-01-05") == [t for t in everything if t[1] >= TWO]
    assert _shown(ws, "--since", "2024-01-05T12:00:01Z") == [t for t in everything if t[1] > TWO]
    assert _shown(ws, "--until", "2024-01-05") == [t for t in everything if t[1] <= TWO]  # the whole day
    assert _shown(ws, "--until", "2024-01-05T11:59:59Z") == [t for t in everything if t[1] == ONE]
    assert _shown(ws, "--since", TWO, "--until", LEGACY) == [t for t in everything if t[1] in (TWO, LEGACY)]
    # --run: transitions to or from that run.
    assert _shown(ws, "--run", LEGACY) == [("alpha", LEGACY), ("alpha", FOUR)]
    # --limit: the latest N of what the other filters keep, still oldest first.
    assert _shown(ws, "--registry", "alpha", "--limit", "2") == [("alpha", LEGACY), ("alpha", FOUR)]
    assert _shown(ws, "--limit", "1") == [everything[-1]]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--since", "last tuesday"), "--since 'last tuesday': expected a date YYYY-MM-DD, a time YYYY-MM-DDTHH:MM:SSZ or a run id"),
        (("--until", "2024-13-01T00:00:00"), "--until"),
        (("--since", "2024-02-30"), "--since '2024-02-30'"),
        (("--run", "nightly"), "--run 'nightly': not a run id"),
        (("--limit", "0"), "--limit"),
    ],
)
def test_delta_show_refuses_malformed_filters(ws: DeltaWorkspace, args: tuple[str, ...], named: str) -> None:
    assert_refused(ws.govern("delta", "show", *args), "E_USAGE", named, exit_code=2)


# --------------------------------------------------------------------------- --path


@pytest.mark.parametrize("form", ["./{p}", "{p}/", ".//{p}", "{runs}/{run}/{p}", "{root}/{runs}/{run}/{p}/", "{root}/{p}"])
def test_delta_show_path_accepts_the_forms_people_type(ws: DeltaWorkspace, form: str) -> None:
    wanted = _shown(ws, "--path", BETA)
    given = form.format(p=BETA, runs=".codex/RUNS", run=TWO, root=ws.root)
    assert _shown(ws, "--path", given) == wanted and len(wanted) == 2  # like git log -- P: only transitions touching it


def test_path_outside_the_workspace_is_refused_naming_it(ws: DeltaWorkspace, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / BETA
    for command in (("delta", "show"), ("diff", ONE, TWO)):
        result = ws.govern(*command, "--path", str(outside))
        assert_refused(result, "E_PATH_OUTSIDE", str(outside), "outside the workspace", exit_code=2)
    assert_refused(ws.govern("delta", "show", "--path", "../x"), "E_USAGE", "../x", exit_code=2)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}", fullmatch=True), min_size=1, max_size=4))
def test_every_accepted_form_of_a_path_normalises_to_the_same_in_run_path(parts: list[str]) -> None:
    from govern.cli.path_argument import in_run_path

    root = Path("/srv/ws")
    runs = root / ".codex" / "RUNS"
    path = "/".join(parts)
    forms = [path, f"./{path}", f"{path}/", path.replace("/", "//"), f".codex/RUNS/{ONE}/{path}", f"{runs}/{ONE}/{path}", f"{root}/{path}"]
    assert {in_run_path(form, workspace_root=root, runs_root=runs) for form in forms} == {path}


# --------------------------------------------------------------------------- govern diff


def test_diff_of_two_sealed_runs_by_id_and_by_path(ws: DeltaWorkspace) -> None:
    result = ws.govern("diff", ONE, str(ws.runs / TWO))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("checked: both seals (manifest.json hashes to MANIFEST.sha256)")
    assert lines[1:] == [
        f"M\t{ALPHA}",
        f"M\t{BETA}/a.txt",
        f"D\t{BETA}/b.txt",
        f"A\t{BETA}/c.txt",
        "M\trun.json",
        f"{ONE} → {TWO}: 1 added, 1 removed, 3 modified",
    ]
    restricted = ws.govern("diff", ONE, TWO, "--path", f"./{BETA}/", "--json")
    data = restricted.json()["result"]
    assert (data["added"], data["removed"], data["modified"]) == ([f"{BETA}/c.txt"], [f"{BETA}/b.txt"], [f"{BETA}/a.txt"])
    assert data["counts"] == {"added": 1, "removed": 1, "modified": 1} and data["path"] == BETA
    assert data["checked"] == "seals" and data["from"]["root_sha256"] == ws.root_sha256(ONE)


def test_diff_is_the_delta_logs_manifest_diff(ws: DeltaWorkspace) -> None:
    """One diff implementation: the paths diff gives under an artifact are the log's record."""
    record = next(r for r in ws.records() if r["registry_id"] == "beta" and r["to_ref"]["run_id"] == TWO)
    data = ws.govern("diff", ONE, TWO, "--path", BETA, "--json").json()["result"]
    assert (data["added"], data["removed"], data["modified"]) == (record["added_paths"], record["removed_paths"], record["modified_paths"])


def test_diff_refuses_a_run_whose_seal_does_not_verify(ws: DeltaWorkspace) -> None:
    manifest = ws.runs / TWO / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"bytes": 3', b'"bytes": 4', 1))
    assert_refused(ws.govern("diff", ONE, TWO), "E_SEAL_MISMATCH", TWO, "seal does not verify", exit_code=1)
    assert_refused(ws.govern("diff", ONE, LEGACY), "E_SEAL_MISSING", LEGACY, exit_code=1)


def test_diff_deep_rehashes_payload_files(ws: DeltaWorkspace) -> None:
    (ws.runs / TWO / f"{BETA}/c.txt").write_text("tampered\n")
    shallow = ws.govern("diff", ONE, TWO)
    assert shallow.returncode == 0 and "payload files not re-hashed" in shallow.stdout
    assert_refused(ws.govern("diff", ONE, TWO, "--deep"), "E_SIZE_MISMATCH", TWO, f"{BETA}/c.txt", exit_code=1)


def test_diff_names_a_missing_run(ws: DeltaWorkspace) -> None:
    assert_refused(ws.govern("diff", ONE, "2024-02-01__000000__nope"), "E_NOT_A_DIRECTORY", "2024-02-01__000000__nope", exit_code=2)


# --------------------------------------------------------------------------- seal --op / --input / --param


def test_seal_with_an_uncatalogued_op_warns_and_governance_check_flags_the_run(workspace: Path, runs_root: Path) -> None:
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n"})
    sealed = run_govern("-C", workspace, "seal", run, "--op", "OP-ZZ99", "--at", "2024-02-01T00:00:00Z")
    assert sealed.returncode == 0, sealed.stderr
    warnings = [line for line in sealed.stderr.splitlines() if line.startswith("govern: warning:")]
    assert len(warnings) == 1, sealed.stderr
    assert "OP-ZZ99" in warnings[0] and "governance/ALLOWED_OPERATIONS_CATALOG.json" in warnings[0]
    assert "governance add-op" in warnings[0]
    assert json.loads((run / "run.json").read_bytes())["op_id"] == "OP-ZZ99"
    check = run_govern("-C", workspace, "governance", "check")
    assert check.returncode == 1, check.stdout + check.stderr
    flagged = [line for line in check.stdout.splitlines() if "E_OP_UNCATALOGUED" in line]
    assert len(flagged) == 1 and "2024-02-01__000000__nightly" in flagged[0] and "OP-ZZ99" in flagged[0], check.stdout
    added = run_govern("-C", workspace, "governance", "add-op", "OP-ZZ99", "--title", "Nightly", "--executable", "n.py", "--coverage", "C0")
    assert added.returncode == 0, added.stderr
    again = run_govern("-C", workspace, "governance", "check")
    assert "E_OP_UNCATALOGUED" not in again.stdout


def test_seal_with_a_catalogued_op_says_nothing_more(workspace: Path, runs_root: Path) -> None:
    ops = read(workspace, CATALOG)["operations"]
    if not ops:
        added = run_govern("-C", workspace, "governance", "add-op", "OP-AB01", "--title", "T", "--executable", "t.py", "--coverage", "C0")
        assert added.returncode == 0, added.stderr
    op_id = read(workspace, CATALOG)["operations"][0]["op_id"]
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n"})
    sealed = run_govern("-C", workspace, "seal", run, "--op", op_id)
    assert (sealed.returncode, sealed.stderr) == (0, "")


def test_seal_input_and_param_fill_run_json(workspace: Path, runs_root: Path) -> None:
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n"})
    sealed = run_govern(
        "seal", run, "--input", "source=s3://bucket/x.csv", "--input", "rows=10", "--param", "seed=7", "--param", "mode=a=b"
    )
    assert sealed.returncode == 0, sealed.stderr
    envelope = json.loads((run / "run.json").read_bytes())
    assert envelope["inputs"] == {"source": "s3://bucket/x.csv", "rows": "10"}
    assert envelope["params"] == {"seed": "7", "mode": "a=b"}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--input", "source"), "--input 'source': expected KEY=VALUE"),
        (("--param", "=1"), "--param '=1': expected KEY=VALUE"),
        (("--param", "seed=1", "--param", "seed=2"), "--param 'seed' given twice"),
    ],
)
def test_seal_refuses_malformed_key_values_writing_nothing(runs_root: Path, args: tuple[str, ...], named: str) -> None:
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n"})
    before = tree_state(runs_root)
    assert_refused(run_govern("seal", run, *args), "E_USAGE", named, exit_code=2)
    assert tree_state(runs_root) == before


def test_seal_refuses_input_when_run_json_exists(runs_root: Path) -> None:
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n", "run.json": b'{"op_id": null}\n'})
    before = tree_state(runs_root)
    result = run_govern("seal", run, "--input", "k=v")
    assert_refused(result, "E_USAGE", "run.json", "never rewritten", "--input", exit_code=2)
    assert tree_state(runs_root) == before


def test_seal_says_when_an_existing_run_json_drops_its_op(runs_root: Path) -> None:
    """--op is recorded only in a run.json govern writes: with one already naming another
    operation the run is sealed as it is, and the dropped --op is one warning, never silent."""
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n", "run.json": b'{"op_id": "OP-QA03"}\n'})
    result = run_govern("seal", run, "--op", "OP-QA04")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("govern: warning: --op OP-QA04 not recorded: ") and "names op_id 'OP-QA03'" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert (run / "run.json").read_bytes() == b'{"op_id": "OP-QA03"}\n'
    again = make_run(runs_root, "2024-02-02__000000__nightly", {"a.txt": b"a\n", "run.json": b'{"op_id": "OP-QA03"}\n'})
    same = run_govern("seal", again, "--op", "OP-QA03")  # the operation it records: nothing dropped
    assert same.returncode == 0 and "not recorded" not in same.stderr, same.stderr


# --------------------------------------------------------------------------- governance remove-op


def _with_op(workspace: Path, op_id: str = "OP-ZZ01") -> None:
    added = gov(workspace, "governance", "add-op", op_id, "--title", "Spare", "--executable", "spare.py", "--coverage", "C0", "--at", LATER_AT)
    assert added.returncode == 0, added.stderr


def test_remove_op_rederives_the_books_in_one_change(workspace: Path) -> None:
    _with_op(workspace)
    before = {relpath: read(workspace, relpath) for relpath in (CATALOG, MATRIX, SCORECARD)}
    result = gov(workspace, "governance", "remove-op", "OP-ZZ01", "--at", LATER_AT)
    assert result.returncode == 0, result.stderr
    assert "REMOVE OP-ZZ01: Spare" in result.stdout and "REMOVE row: OP-ZZ01 at C0 coverage" in result.stdout
    after = {relpath: read(workspace, relpath) for relpath in (CATALOG, MATRIX, SCORECARD)}
    assert "OP-ZZ01" not in [op["op_id"] for op in after[CATALOG]["operations"]]
    assert "OP-ZZ01" not in [row["op_id"] for row in after[MATRIX]["rows"]]
    for relpath in (CATALOG, MATRIX, SCORECARD):
        assert after[relpath]["version"] != before[relpath]["version"], relpath
        last = after[relpath]["changelog"][-1]
        assert last["before"] == before[relpath]["changelog"][-1]["after"], relpath
    assert after[SCORECARD]["figures"]["operations"] == before[SCORECARD]["figures"]["operations"] - 1
    assert gov(workspace, "governance", "check").returncode == 0


def test_remove_op_refuses_unknown_and_referenced_operations_writing_nothing(workspace: Path, runs_root: Path) -> None:
    _with_op(workspace, "OP-ZZ02")
    run = make_run(runs_root, "2024-02-01__000000__nightly", {"a.txt": b"a\n"})
    seal_in_process(run, op_id="OP-ZZ02")
    state = governance_state(workspace)
    assert_refused(gov(workspace, "governance", "remove-op", "OP-NO01"), "E_OP_UNKNOWN", "OP-NO01", exit_code=2)
    assert_refused(
        gov(workspace, "governance", "remove-op", "OP-ZZ02"), "E_OP_IN_USE", "OP-ZZ02", "2024-02-01__000000__nightly", exit_code=2
    )
    # OP-QA11 comes from the delta_log plugin: a sync would add it straight back.
    plugins = run_govern("-C", workspace, "governance", "sync", "--at", LATER_AT)
    assert plugins.returncode == 0, plugins.stderr
    state = governance_state(workspace)
    assert_refused(run_govern("-C", workspace, "governance", "remove-op", "OP-QA11"), "E_OP_IN_USE", "OP-QA11", "delta_log", exit_code=2)
    assert governance_state(workspace) == state


# --------------------------------------------------------------------------- registry remove


def test_registry_remove_restores_the_config_and_rederives_the_books(tmp_path: Path) -> None:
    ws = DeltaWorkspace.create(tmp_path / "ws", {})
    config = ws.root / "registry_config.toml"
    original = "# my workspace\n" + config.read_text(encoding="utf-8") + "\n# keep me\n"
    config.write_text(original, encoding="utf-8")
    for registry_id, artifact in (("alpha", ALPHA), ("beta", BETA)):
        added = ws.govern("registry", "add", registry_id, "--kind", "sealed", "--artifact", artifact)
        assert added.returncode == 0, added.stderr
    synced = ws.govern("governance", "sync", "--at", LATER_AT)
    assert synced.returncode == 0, synced.stderr
    ws.run(ONE, {ALPHA: "1\n", f"{BETA}/a.txt": "a\n"})
    ws.build_ok(at=build_at(1))
    log_before = ws.photograph()
    catalog_before = read(ws.root, REGISTRY_CATALOG)
    sealed_before = read(ws.root, SCORECARD)["figures"]["sealed_registries"]

    removed = ws.govern("registry", "remove", "beta", "--at", LATER_AT)
    assert removed.returncode == 0, removed.stderr
    assert "REMOVE beta" in removed.stdout
    assert "the delta log keeps its 1 record for beta" in removed.stdout and "history is never modified" in removed.stdout
    text = config.read_text(encoding="utf-8")
    assert "[registries.beta]" not in text and "[registries.alpha]" in text
    assert text.startswith("# my workspace\n") and "# keep me\n" in text
    catalog = read(ws.root, REGISTRY_CATALOG)
    assert [e["registry_id"] for e in catalog["registries"]] == [
        e["registry_id"] for e in catalog_before["registries"] if e["registry_id"] != "beta"
    ]
    assert catalog["version"] != catalog_before["version"]
    assert read(ws.root, SCORECARD)["figures"]["sealed_registries"]["sealed"] == sealed_before["sealed"] - 1
    assert ws.photograph() == log_before  # sealed runs and the delta log untouched
    assert ws.govern("governance", "check").returncode == 0
    assert ws.govern("verify", "--log").returncode == 0
    # Removing what 'registry add' appended gives back the file as it was, byte for byte.
    assert ws.govern("registry", "remove", "alpha", "--at", LATER_AT).returncode == 0
    assert config.read_text(encoding="utf-8") == original


def test_registry_remove_of_a_frozen_catalog_entry_says_it_stays_listed(tmp_path: Path) -> None:
    from governance_books import reference_copy

    root = reference_copy(tmp_path / "ref")
    catalog = (root / REGISTRY_CATALOG).read_bytes()
    result = gov(root, "registry", "remove", "drift_signals", "--at", LATER_AT)
    assert result.returncode == 0, result.stderr
    assert "still listed in governance/REGISTRY_CATALOG.json" in result.stdout and "frozen" in result.stdout
    assert (root / REGISTRY_CATALOG).read_bytes() == catalog
    assert "[registries.drift_signals]" not in (root / "registry_config.toml").read_text(encoding="utf-8")


def test_registry_remove_refuses_an_unknown_id_writing_nothing(workspace: Path) -> None:
    before = tree_state(workspace)
    assert_refused(run_govern("-C", workspace, "registry", "remove", "nope"), "E_REGISTRY_UNKNOWN", "'nope'", exit_code=2)
    assert tree_state(workspace) == before


def test_registry_remove_works_when_the_kinds_plugin_is_gone(workspace: Path) -> None:
    """The plugin of a kind was uninstalled: removing its registry is how the config is fixed."""
    config = workspace / "registry_config.toml"
    original = config.read_text(encoding="utf-8")
    config.write_text(original + '\n[registries.rows]\nkind = "jsonl_records"\nartifact = "R.jsonl"\n', encoding="utf-8")
    removed = run_govern("-C", workspace, "registry", "remove", "rows", "--at", LATER_AT)
    assert removed.returncode == 0, removed.stderr
    assert config.read_text(encoding="utf-8") == original
    assert run_govern("-C", workspace, "registry", "list").returncode == 0


def test_registry_remove_refuses_a_table_it_cannot_cut_cleanly(workspace: Path) -> None:
    config = workspace / "registry_config.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[registries]\nalpha = {kind = "sealed", artifact = "A.json"}\n', encoding="utf-8")
    before = config.read_bytes()
    assert_refused(run_govern("-C", workspace, "registry", "remove", "alpha"), "E_CONFIG_INVALID", "remove it by hand", exit_code=2)
    assert config.read_bytes() == before


@pytest.mark.parametrize("point", ["apply:governance@2", "apply:governance@3"])
def test_registry_remove_is_one_transaction_a_crash_is_completed_by_the_next_command(tmp_path: Path, point: str) -> None:
    """The config and the books change together: killed between their replacements, the next
    command that opens the books completes the change (never a config without the registry
    beside books that still list it)."""
    import signal

    ws = DeltaWorkspace.create(tmp_path / "ws", {})
    for registry_id, artifact in (("alpha", ALPHA), ("beta", BETA)):
        assert ws.govern("registry", "add", registry_id, "--kind", "sealed", "--artifact", artifact).returncode == 0
    assert ws.govern("governance", "sync", "--at", LATER_AT).returncode == 0
    killed = ws.govern("registry", "remove", "beta", "--at", LATER_AT, env={"GOVERN_FAULT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    check = ws.govern("governance", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "completed a governance change interrupted by a crash" in check.stderr
    assert "[registries.beta]" not in (ws.root / "registry_config.toml").read_text(encoding="utf-8")
    assert "beta" not in [e["registry_id"] for e in read(ws.root, REGISTRY_CATALOG)["registries"]]
