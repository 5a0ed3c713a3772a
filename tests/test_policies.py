"""Policies (issue 17 point 2, docs/policies.md): ``[policies]`` / ``[registries.X.policy]``,
``govern check`` and ``govern delta build --enforce`` with ``--allow ID --reason TEXT``.

Each rule is shown firing on a crafted violation and not on its neighbour, in a real workspace
in a temporary directory: snapshots are sealed run folders, builds and checks run through
govern's ``main`` (one subprocess run of the console script proves the exit-code contract).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from delta_workspace import DeltaWorkspace, assert_refused, build_at, build_id
from govern.format.path_globs import glob_problem, matches_glob
from govern.format.policies import PathCounts, Policy, exceeds, judge_record

RUN_A = "2024-01-01__000000__a"
RUN_B = "2024-01-02__000000__b"
RUN_C = "2024-01-03__000000__c"


def _files(count: int, *, prefix: str = "reports/r", content: str = "{}") -> dict[str, str]:
    return {f"{prefix}{index:02d}.json": content for index in range(count)}


def _workspace(root: Path, registries: dict[str, dict[str, Any]], policies: dict[str, Any] | None = None, *, books: bool = False) -> DeltaWorkspace:
    """A workspace whose registries (id -> table, ``policy`` included) and workspace-wide
    ``policies`` are as given; without ``books`` its governance folder is removed (the books
    are checked by their own test)."""
    ws = DeltaWorkspace.create(root, registries)
    config_path = root / "registry_config.toml"
    import tomllib

    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    if policies is not None:
        config["policies"] = policies
    config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
    if not books:
        shutil.rmtree(root / "governance")
    return ws


def _reports(root: Path, policy: dict[str, Any], policies: dict[str, Any] | None = None) -> DeltaWorkspace:
    """One folder-artifact registry ``reports`` with ``policy``."""
    return _workspace(root, {"reports": {"kind": "sealed", "artifact": "reports", "policy": policy}}, policies)


def _check(ws: DeltaWorkspace, *args: str) -> tuple[int, dict[str, Any]]:
    result = ws.govern("--json", "check", *args)
    document = json.loads(result.stdout)
    assert document["exit_code"] == result.returncode, result.stderr
    return result.returncode, document["result"]


def _violation_ids(ws: DeltaWorkspace, *args: str) -> list[str]:
    _code, result = _check(ws, *args)
    return [violation["violation_id"] for violation in result["policies"]["violations"]]


# ---------------------------------------------------------------- the rules, pure


@pytest.mark.parametrize(
    "pattern,path,matched",
    [
        ("config/**", "config/a.json", True),
        ("config/**", "config/x/y.json", True),
        ("config/**", "configs/a.json", False),  # the sibling folder
        ("config/*.json", "config/a.json", True),
        ("config/*.json", "config/x/a.json", False),  # '*' never crosses '/'
        ("**/secret.json", "secret.json", True),
        ("**/secret.json", "a/b/secret.json", True),
        ("**/secret.json", "a/b/secret.json.bak", False),
        ("a/**/b.json", "a/b.json", True),
        ("rows/[0-9]*", "rows/7", True),
        ("rows/[!0-9]*", "rows/7", False),
        ("rows/?", "rows/ab", False),
    ],
)
def test_globs_match_whole_paths_segment_by_segment(pattern: str, path: str, matched: bool):
    assert glob_problem(pattern) is None
    assert matches_glob(pattern, path) is matched


_SEGMENT = st.text(alphabet="abc.-_0", min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))


@given(st.lists(_SEGMENT, min_size=1, max_size=5), _SEGMENT)
def test_double_star_matches_a_name_at_any_depth_and_star_stays_in_its_segment(segments: list[str], name: str):
    path = "/".join(segments)
    assert matches_glob(f"**/{name}", path) is (segments[-1] == name)
    assert matches_glob("*", path) is (len(segments) == 1)
    assert matches_glob(path, path)  # a path with no glob characters is its own glob


def test_a_percentage_is_exact_at_the_boundary():
    assert exceeds(2, "10%", 20) is False
    assert exceeds(3, "10%", 20) is True
    assert exceeds(1, "2.5%", 40) is False
    assert exceeds(2, "2.5%", 40) is True
    assert exceeds(3, "10%", None) is None  # the from-snapshot's path count not known
    assert exceeds(2, 2, None) is False


def test_a_registry_rule_replaces_the_workspace_wide_rule_of_the_same_name_only():
    workspace_wide = Policy(max_removed=0, never_remove=["a/**"], forbid_unknown=True)
    merged = Policy(max_removed=5).over(workspace_wide)
    assert merged == Policy(max_removed=5, never_remove=["a/**"], forbid_unknown=True)


def _record(to: str, basis: str = "manifest_diff", **paths: list[Any]) -> dict[str, Any]:
    """A log record's JSON object of registry ``r`` (a transition from RUN_A unless ``to`` is RUN_A)."""
    record: dict[str, Any] = {
        "registry_id": "r",
        "from_ref": None if to == RUN_A else {"run_id": RUN_A},
        "to_ref": {"run_id": to},
        "delta_basis": basis,
        "added_paths": [],
        "removed_paths": [],
        "modified_paths": [],
        "derivation_run_id": build_id(build_at(1)),
        **paths,
    }
    if basis == "unknown":
        record["unknown_reason"] = "legacy folder"
    return record


def test_a_renamed_path_counts_as_taken_away_for_the_path_rules():
    record = _record(RUN_B, renamed_paths=[["keep/a.json", "moved/a.json"]])
    policy = Policy(never_remove=["keep/**"], immutable_paths=["keep/**"], max_removed=0)
    found = judge_record(record, policy, 1)
    assert [(v.rule, v.paths) for v in found] == [("immutable_paths", ("keep/a.json",)), ("never_remove", ("keep/a.json",))]


def test_a_percentage_after_an_unknown_transition_cannot_be_judged_and_says_so():
    counts = PathCounts()
    bootstrap = _record(RUN_A, added_paths=["a", "b"])
    assert counts.before(bootstrap) == 0
    counts.advance(bootstrap)
    unknown = _record(RUN_B, "unknown")
    assert counts.before(unknown) == 2
    # Neither limit judges an unknown transition; forbid_unknown is the rule that does.
    assert judge_record(unknown, Policy(max_removed="10%"), 2) == []
    counts.advance(unknown)
    later = _record(RUN_C, removed_paths=["a"])
    assert counts.before(later) is None
    [violation] = judge_record(later, Policy(max_removed="10%"), counts.before(later))
    assert "cannot be judged" in violation.message and violation.violation_id == f"r@{RUN_C}:max_removed"
    assert judge_record(later, Policy(max_removed=1), None) == []  # a count needs no path count


# ---------------------------------------------------------------- each rule on a build


def test_max_removed_two_removed_pass_three_fail(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"max_removed": 2})
    ws.run(RUN_A, _files(6))
    ws.run(RUN_B, _files(4))  # 2 removed: the limit
    ws.run(RUN_C, _files(1))  # 3 removed: over it
    ws.build_ok(at=build_at(1))
    assert _violation_ids(ws) == [f"reports@{RUN_C}:max_removed"]


def test_max_added_and_max_modified_fire_past_their_counts(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"max_added": 1, "max_modified": 1})
    ws.run(RUN_A, _files(3))
    ws.run(RUN_B, {**_files(3), "reports/r00.json": "[]", "reports/new1.json": "{}"})  # 1 modified, 1 added
    ws.run(RUN_C, {**_files(3, content="[1]"), "reports/new1.json": "{}", "reports/new2.json": "{}", "reports/new3.json": "{}"})
    ws.build_ok(at=build_at(1))
    code, result = _check(ws)
    assert code == 1
    violations = {v["violation_id"]: v for v in result["policies"]["violations"]}
    assert sorted(violations) == [f"reports@{RUN_C}:max_added", f"reports@{RUN_C}:max_modified"]
    assert violations[f"reports@{RUN_C}:max_added"]["paths"] == ["reports/new2.json", "reports/new3.json"]
    assert violations[f"reports@{RUN_C}:max_modified"]["from_label"] == RUN_B


def test_a_percentage_of_the_from_snapshots_paths_at_the_boundary(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"max_removed": "10%"})
    ws.run(RUN_A, _files(20))
    ws.run(RUN_B, _files(18))  # 2 of 20 removed: 10%, allowed
    ws.run(RUN_C, _files(15))  # 3 of 18 removed: over 10%
    ws.build_ok(at=build_at(1))
    code, result = _check(ws)
    assert code == 1
    [violation] = result["policies"]["violations"]
    assert violation["violation_id"] == f"reports@{RUN_C}:max_removed"
    assert "of the from-snapshot's 18 paths" in violation["message"]


def test_immutable_paths_fire_on_a_modified_match_not_on_a_sibling(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"immutable_paths": ["reports/config/**"]})
    ws.run(RUN_A, {"reports/config/a.json": "{}", "reports/configs/a.json": "{}"})
    ws.run(RUN_B, {"reports/config/a.json": "{}", "reports/configs/a.json": "[]"})  # only the sibling changes
    ws.run(RUN_C, {"reports/config/a.json": "[]", "reports/configs/a.json": "[]"})  # the immutable one changes
    ws.build_ok(at=build_at(1))
    code, result = _check(ws)
    [violation] = result["policies"]["violations"]
    assert (violation["violation_id"], violation["paths"]) == (f"reports@{RUN_C}:immutable_paths", ["reports/config/a.json"])


def test_never_remove_fires_on_a_removal_not_on_a_modification(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"never_remove": ["reports/keep*.json"]})
    ws.run(RUN_A, {"reports/keep1.json": "{}", "reports/keep2.json": "{}", "reports/other.json": "{}"})
    ws.run(RUN_B, {"reports/keep1.json": "[]", "reports/keep2.json": "{}"})  # modified, and a non-matching removal
    ws.run(RUN_C, {"reports/keep1.json": "[]"})  # keep2 removed
    ws.build_ok(at=build_at(1))
    assert _violation_ids(ws) == [f"reports@{RUN_C}:never_remove"]


def test_forbid_unknown_fires_on_an_unknown_transition_only(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"forbid_unknown": True})
    ws.run(RUN_A, _files(2))
    ws.run(RUN_B, _files(3))
    ws.run(RUN_C, _files(3), seal=False)  # a legacy folder: taken with --allow-unknown, basis unknown
    ws.build_ok("--allow-unknown", at=build_at(1))
    assert _violation_ids(ws) == [f"reports@{RUN_C}:forbid_unknown"]


def test_schema_fires_on_an_invalid_artifact_at_the_to_snapshot_only(tmp_path: Path):
    root = tmp_path / "ws"
    ws = _workspace(root, {"items": {"kind": "sealed", "artifact": "ITEMS.jsonl", "policy": {"schema": "schemas/item.schema.json"}}})
    (root / "schemas").mkdir(exist_ok=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["id"]}
    (root / "schemas" / "item.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    ws.run(RUN_A, {"ITEMS.jsonl": '{"id":1}\n'})
    ws.run(RUN_B, {"ITEMS.jsonl": '{"id":1}\n{"name":"x"}\n'})  # the second line has no id
    ws.build_ok(at=build_at(1))
    code, result = _check(ws)
    [violation] = result["policies"]["violations"]
    assert code == 1
    assert (violation["violation_id"], violation["paths"]) == (f"items@{RUN_B}:schema", ["ITEMS.jsonl"])
    assert "ITEMS.jsonl:2" in violation["message"] and "'id' is a required property" in violation["message"]


def test_workspace_wide_policy_applies_unless_the_registry_overrides_that_rule(tmp_path: Path):
    registries = {
        "strict": {"kind": "sealed", "artifact": "strict"},
        "lenient": {"kind": "sealed", "artifact": "lenient", "policy": {"max_removed": 5}},
    }
    ws = _workspace(tmp_path / "ws", registries, {"max_removed": 0, "never_remove": ["lenient/keep.json"]})
    ws.run(RUN_A, {"strict/a.json": "{}", "strict/b.json": "{}", "lenient/a.json": "{}", "lenient/keep.json": "{}"})
    ws.run(RUN_B, {"strict/a.json": "{}", "lenient/a.json": "{}"})  # one removed from each: strict/b.json, lenient/keep.json
    ws.build_ok(at=build_at(1))
    # strict: over the workspace-wide 0; lenient: its own 5 wins, but the workspace-wide never_remove still holds.
    assert sorted(_violation_ids(ws)) == [f"lenient@{RUN_B}:never_remove", f"strict@{RUN_B}:max_removed"]


def test_no_policies_no_violations_and_no_log_yet(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {})
    code, result = _check(ws)
    assert (code, result["policies"]["build"], result["policies"]["violations"]) == (0, None, [])
    ws.run(RUN_A, _files(3))
    ws.run(RUN_B, _files(0, prefix="reports/x"))
    ws.build_ok(at=build_at(1))
    assert _check(ws)[0] == 0


# ---------------------------------------------------------------- --enforce and --allow


def _violating(root: Path) -> DeltaWorkspace:
    ws = _reports(root, {"max_removed": 1, "never_remove": ["reports/r00.json"]})
    ws.run(RUN_A, _files(3))
    ws.build_ok(at=build_at(1))
    ws.run(RUN_B, _files(0, prefix="reports/x") | {"reports/r01.json": "{}"})  # r00 and r02 removed
    return ws


def test_enforce_refuses_a_violating_build_and_writes_nothing(tmp_path: Path):
    ws = _violating(tmp_path / "ws")
    before = ws.photograph()
    result = ws.build("--enforce", at=build_at(2))
    assert_refused(result, "E_POLICY_VIOLATION", f"reports@{RUN_B}:max_removed", "nothing written", "--allow VIOLATION-ID")
    # Every violation is listed, one per line below the error.
    assert f"  E_POLICY_VIOLATION reports@{RUN_B}:never_remove: " in result.stderr
    assert ws.photograph() == before
    # The same records without --enforce are appended (the policy gates only when asked).
    ws.build_ok(at=build_at(2))


def test_an_allowed_violation_is_recorded_in_run_json_and_shown_as_allowed_by_check(tmp_path: Path):
    ws = _violating(tmp_path / "ws")
    removed = f"reports@{RUN_B}:max_removed"
    # Allowing one of two violations is not enough: the other still refuses, nothing written.
    before = ws.photograph()
    assert_refused(ws.build("--enforce", "--allow", removed, "--reason", "planned cleanup", at=build_at(2)), "E_POLICY_VIOLATION", f"reports@{RUN_B}:never_remove")
    assert ws.photograph() == before
    never = f"reports@{RUN_B}:never_remove"
    ws.build_ok("--enforce", "--allow", removed, "--allow", never, "--reason", "planned cleanup", at=build_at(2))
    params = ws.envelope()["params"]
    assert params["enforce"] is True
    assert params["allow_violations"] == [
        {"violation_id": removed, "reason": "planned cleanup"},
        {"violation_id": never, "reason": "planned cleanup"},
    ]
    code, result = _check(ws)
    assert code == 0 and result["policies"]["violations"] == []
    assert [(a["violation_id"], a["reason"], a["allowed_by"]) for a in result["policies"]["allowed"]] == [
        (removed, "planned cleanup", build_id(build_at(2))),
        (never, "planned cleanup", build_id(build_at(2))),
    ]
    text = ws.govern("check")
    assert f"ALLOWED    {removed} (by {build_id(build_at(2))}: planned cleanup)" in text.stdout


def test_an_allowance_covers_only_the_transition_it_names(tmp_path: Path):
    ws = _violating(tmp_path / "ws")
    ws.build_ok(at=build_at(2))  # appended without --enforce: nobody allowed anything
    ws.run(RUN_C, {})
    assert sorted(_violation_ids(ws)) == [f"reports@{RUN_B}:max_removed", f"reports@{RUN_B}:never_remove"]


@pytest.mark.parametrize(
    "args,mention",
    [
        (["--enforce", "--allow", f"reports@{RUN_B}:max_added", "--reason", "x"], "names no violation of this build"),
        (["--enforce", "--allow", f"reports@{RUN_B}:max_removed"], "need --reason TEXT"),
        (["--allow", f"reports@{RUN_B}:max_removed", "--reason", "x"], "give --enforce"),
    ],
)
def test_a_wrong_allow_is_a_usage_error_and_writes_nothing(tmp_path: Path, args: list[str], mention: str):
    ws = _violating(tmp_path / "ws")
    before = ws.photograph()
    assert_refused(ws.build(*args, at=build_at(2)), "E_USAGE", mention, exit_code=2)
    assert ws.photograph() == before


def test_enforce_with_a_dry_run_reports_the_violations(tmp_path: Path):
    ws = _violating(tmp_path / "ws")
    before = ws.photograph()
    assert_refused(ws.build("--enforce", "--dry-run", at=build_at(2)), "E_POLICY_VIOLATION")
    assert ws.photograph() == before


# ---------------------------------------------------------------- govern check


def test_check_since_judges_only_the_records_appended_after_that_build(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"max_removed": "50%"})
    ws.run(RUN_A, _files(4))
    ws.run(RUN_B, _files(1))  # 3 of 4 removed: over 50%
    ws.build_ok(at=build_at(1))
    ws.run(RUN_C, {"reports/other.json": "{}"})  # 1 of 1 removed: over 50% of the count replayed from the earlier records
    ws.build_ok(at=build_at(2))
    assert _violation_ids(ws) == [f"reports@{RUN_B}:max_removed", f"reports@{RUN_C}:max_removed"]
    assert _violation_ids(ws, "--since", build_id(build_at(1))) == [f"reports@{RUN_C}:max_removed"]
    assert _check(ws, "--since", build_id(build_at(2))) [1]["policies"]["records_judged"] == 0
    assert_refused(ws.govern("check", "--since", RUN_A), "E_USAGE", f"--since {RUN_A}: not a build", exit_code=2)


def test_check_is_a_console_script_exiting_1_with_each_violation(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {"max_removed": 0})
    ws.run(RUN_A, _files(2))
    ws.run(RUN_B, _files(1))
    ws.build_ok(at=build_at(1))
    result = ws.govern("check", subprocess=True)
    assert result.returncode == 1, result.stderr
    assert f"VIOLATION  reports@{RUN_B}:max_removed" in result.stdout
    assert f"reports {RUN_A} -> {RUN_B}: max_removed: 1 path removed, more than max_removed = 0: reports/r01.json" in result.stdout
    assert "Traceback" not in result.stderr


def test_check_also_checks_the_governance_books(tmp_path: Path):
    root = tmp_path / "ws"
    ws = _workspace(root, {"reports": {"kind": "sealed", "artifact": "reports"}}, books=True)
    ws.run(RUN_A, _files(1))
    ws.build_ok(at=build_at(1))
    code, result = _check(ws)
    assert code == 1 and result["policies"]["violations"] == []
    assert "E_REGISTRY_UNCATALOGUED" in [problem["code"] for problem in result["governance"]["problems"]]
    assert ws.govern("governance", "sync", "--at", "2099-01-01T00:00:00Z").returncode == 0
    code, result = _check(ws)
    assert (code, result["governance"]["ok"]) == (0, True)


# ---------------------------------------------------------------- bad configuration


@pytest.mark.parametrize(
    "table,key,mention",
    [
        ({"max_removed": -1}, "max_removed", "is negative"),
        ({"max_removed": "ten"}, "max_removed", "is not a percentage"),
        ({"max_removed": "150%"}, "max_removed", "more than 100%"),
        ({"max_removed": 1.5}, "max_removed", "int | str"),
        ({"max_removed": True}, "max_removed", "int | str"),
        ({"immutable_paths": ["a/**b"]}, "immutable_paths", "'**' inside a segment"),
        ({"never_remove": "a/*"}, "never_remove", "list"),
        ({"forbid_unknown": "yes"}, "forbid_unknown", "bool"),
        ({"max_deleted": 1}, "max_deleted", "extra fields"),
    ],
)
def test_a_bad_policy_is_one_config_error_naming_the_key(tmp_path: Path, table: dict[str, Any], key: str, mention: str):
    ws = _reports(tmp_path / "ws", table)
    result = ws.govern("check")
    assert_refused(result, "E_CONFIG_INVALID", mention, exit_code=2)
    # Our own checks write registries.reports.policy.KEY; cattrs's $.registries['reports'].policy(.KEY).
    assert key in result.stderr and re.search(r"registries(\.reports|\['reports'\])\.policy", result.stderr), result.stderr


def test_a_schema_is_per_registry_not_workspace_wide(tmp_path: Path):
    ws = _reports(tmp_path / "ws", {}, {"schema": "schemas/x.schema.json"})
    assert_refused(ws.govern("check"), "E_CONFIG_INVALID", "policies.schema", exit_code=2)


def test_a_policy_schema_that_does_not_exist_names_the_key(tmp_path: Path):
    ws = _workspace(tmp_path / "ws", {"items": {"kind": "sealed", "artifact": "ITEMS.jsonl", "policy": {"schema": "schemas/missing.schema.json"}}})
    ws.run(RUN_A, {"ITEMS.jsonl": '{"id":1}\n'})
    ws.build_ok(at=build_at(1))
    assert_refused(ws.govern("check"), "E_SCHEMA_NOT_FOUND", "registries.items.policy.schema", "schemas/missing.schema.json", exit_code=2)
