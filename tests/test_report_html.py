"""``govern report html --out DIR`` without a browser (issue 17 point 1): the site is written
whole or not at all, the same inputs and clock give the same bytes, bad input is one line and
exit 2, every text is escaped, ``unknown`` transitions are never drawn as zero, and each
path's history is exactly what ``delta show --path`` selects. The browser tests are in
tests/test_report_html_browser.py."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delta_workspace import DeltaWorkspace, build_at
from governance_books import CHANGE_AT, gov, reference_copy
from helpers import run_govern_process, tree_state
from test_object_storage import s3_reference  # noqa: F401 (a fixture, for built_twice)
from test_s3_commands import built_twice  # noqa: F401 (a fixture: the reference workspace built on s3:// and on a disk)

REPORT_AT = "2026-02-05T03:20:00Z"
#: Paths that hold every character HTML cares about, and some that are not ASCII.
ODD_PATHS = ('data/<b>bold</b>.txt', "data/q\"uote's & amp.txt", "data/été ✓.txt")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the reference workspace with the delta log built at the seed's moment."""
    root = reference_copy(tmp_path_factory.mktemp("html") / "ws")
    result = gov(root, "delta", "build", "--at", CHANGE_AT)
    assert result.returncode == 0, result.stderr
    return root


def _site_bytes(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(site.rglob("*")) if p.is_file()}


def test_two_renders_of_the_same_inputs_and_clock_are_the_same_bytes(built: Path, tmp_path: Path):
    first = run_govern_process("-C", built, "report", "html", "--out", tmp_path / "one", "--at", REPORT_AT)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"wrote {tmp_path / 'one'}: HTML report, 27 files (8 registries covered, 24 records)", f"open {tmp_path / 'one' / 'index.html'}"]
    (tmp_path / "two").mkdir()  # an empty folder is accepted
    second = run_govern_process("-C", built, "report", "html", "--out", tmp_path / "two", "--at", REPORT_AT, env={"SOURCE_DATE_EPOCH": "1"})
    assert second.returncode == 0, second.stderr
    assert _site_bytes(tmp_path / "one") == _site_bytes(tmp_path / "two")
    assert "2026-02-05T03:20:00Z" in (tmp_path / "one" / "index.html").read_text(encoding="utf-8")
    # The clock comes from SOURCE_DATE_EPOCH when there is no --at: never the wall clock.
    third = run_govern_process("-C", built, "report", "html", "--out", tmp_path / "three", env={"SOURCE_DATE_EPOCH": "1770261600"})
    assert third.returncode == 0, third.stderr
    assert "2026-02-05T03:20:00Z" in (tmp_path / "three" / "index.html").read_text(encoding="utf-8")
    assert _site_bytes(tmp_path / "one") == _site_bytes(tmp_path / "three")


def test_an_existing_non_empty_out_folder_is_refused_in_one_line_and_left_alone(built: Path, tmp_path: Path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n")
    before = tree_state(tmp_path)
    result = run_govern_process("-C", built, "report", "html", "--out", out, "--at", REPORT_AT)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"govern: error: E_OUTPUT_EXISTS: {out}: exists and is not an empty folder; the HTML report never overwrites it (choose another folder)"]
    assert tree_state(tmp_path) == before
    # A file where the folder should be, and a folder that cannot exist: the same one line, exit 2.
    result = run_govern_process("-C", built, "report", "html", "--out", out / "keep.txt", "--at", REPORT_AT)
    assert (result.returncode, result.stderr.count("\n"), "E_OUTPUT_EXISTS" in result.stderr) == (2, 1, True)
    result = run_govern_process("-C", built, "report", "html", "--out", tmp_path / "no" / "such", "--at", REPORT_AT)
    assert (result.returncode, result.stderr.count("\n"), "E_NOT_A_DIRECTORY" in result.stderr) == (2, 1, True)
    assert tree_state(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".govern-tmp-")]


def test_the_site_is_written_all_or_nothing(tmp_path: Path):
    from govern.errors import GovernError
    from govern.store.atomic_folder import write_folder_atomic

    # A path that cannot be a file of the folder is refused before anything is written.
    with pytest.raises(GovernError, match="'..' part") as refused:
        write_folder_atomic(tmp_path / "site", {"index.html": b"x", "../escape.html": b"y"}, what="HTML report")
    assert refused.value.code == "E_USAGE"
    # A write that fails half-way (a file and a folder of one name) leaves no folder and no staging.
    with pytest.raises(GovernError) as failure:
        write_folder_atomic(tmp_path / "site", {"a": b"file", "a/b.html": b"under a file"}, what="HTML report")
    assert failure.value.code == "E_IO"
    assert list(tmp_path.iterdir()) == []
    write_folder_atomic(tmp_path / "site", {"index.html": b"x", "registries/r.html": b"y"}, what="HTML report")
    assert _site_bytes(tmp_path / "site") == {"index.html": hashlib.sha256(b"x").hexdigest(), "registries/r.html": hashlib.sha256(b"y").hexdigest()}


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> tuple[DeltaWorkspace, Path]:
    """A registry whose paths hold '<', quotes, '&' and non-ASCII letters, with a transition of
    basis unknown (an unsealed folder taken as a legacy snapshot), and its site."""
    root = tmp_path_factory.mktemp("odd") / "ws"
    ws = DeltaWorkspace.create(root, {"odd_registry": {"kind": "sealed", "artifact": "data"}})
    ws.run("2024-01-01__000000__first", {ODD_PATHS[0]: "1", ODD_PATHS[1]: "1"})
    ws.run("2024-01-02__000000__legacy", {ODD_PATHS[0]: "2", ODD_PATHS[2]: "1"}, seal=False)
    ws.run("2024-01-03__000000__third", {ODD_PATHS[0]: "3", ODD_PATHS[2]: "1"})
    ws.run("2024-01-04__000000__fourth", {ODD_PATHS[0]: "3", ODD_PATHS[2]: "2"})
    ws.build_ok("--allow-unknown", at=build_at(1))
    assert ws.govern("governance", "sync", "--at", "2099-01-01T00:00:00Z").returncode == 0  # the books learn the build's op
    site = root.parent / "site"
    result = ws.govern("report", "html", "--out", str(site), "--at", build_at(2))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (site / "index.html").is_file()
    return ws, site


def test_every_path_and_reason_is_escaped(odd: tuple[DeltaWorkspace, Path]):
    _ws, site = odd
    pages = [p.read_text(encoding="utf-8") for p in sorted((site / "registries").glob("*.html"))]
    assert len(pages) == 2  # one transitions page and one paths page
    text = "\n".join(pages)
    assert "<b>bold</b>" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;.txt" in text
    assert "q&quot;uote&#x27;s &amp; amp.txt" in text
    assert "été ✓.txt" in text
    # Outside the one inline script, no markup but ours: every tag is one the pages write.
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", re.sub(r"<script>.*?</script>", "", text, flags=re.DOTALL)))
    assert tags <= {"html", "head", "meta", "link", "title", "style", "body", "nav", "main", "h1", "h2", "p", "a", "strong", "div",
                    "svg", "defs", "pattern", "rect", "line", "circle", "text", "g", "table", "caption", "thead", "tbody", "tr", "th",
                    "td", "code", "label", "input", "span"}, tags


def test_unknown_transitions_are_marked_unknown_never_drawn_as_zero(odd: tuple[DeltaWorkspace, Path]):
    ws, site = odd
    records = [r for r in ws.records() if r["registry_id"] == "odd_registry"]
    assert [r["delta_basis"] for r in records] == ["manifest_diff", "unknown", "unknown", "manifest_diff"]
    page = next(p for p in (site / "registries").glob("*.html") if not p.name.endswith("-paths.html")).read_text(encoding="utf-8")
    groups = re.findall(r'<g class="snapshot[^"]*" data-line="(\d+)"([^>]*)>', page)
    assert [(int(line), "data-unknown" in rest) for line, rest in groups] == [(1, False), (2, True), (3, True), (4, False)]
    unknown_svg = page.split('data-unknown="true"', 1)[1].split("</g>", 1)[0]
    assert "data-count" not in unknown_svg and ">unknown<" in unknown_svg and ">?<" in unknown_svg
    # In the tables: the reason, never a 0.
    for record in records[1:3]:
        row = re.search(rf'<tr id="rec-{records.index(record) + 1}" class="unknown">(.*?)</tr>', page).group(1)
        assert "unknown — " in row and ">0<" not in row


def test_each_paths_history_is_what_delta_show_path_selects(built: Path, odd: tuple[DeltaWorkspace, Path]):
    from delta_workspace import parse_log
    from govern.log.query import UNKNOWN_LETTER, path_histories, select_transitions

    logs = [parse_log((built / ".codex/RUNS/2026-02-05__031005__registry_delta_log_build/REGISTRY_DELTA_LOG_v0_1.jsonl").read_bytes()), odd[0].records()]
    for records in logs:
        for registry in sorted({r["registry_id"] for r in records}):
            transitions = select_transitions(records, registry=registry)
            histories = path_histories(transitions)
            assert histories, registry
            for path, history in histories.items():
                expected = select_transitions(records, registry=registry, path=path)
                assert [t.record for t, _ in history] == [t.record for t in expected], path
                for transition, letter in history:
                    assert letter == (UNKNOWN_LETTER if transition.unknown else dict((p, le) for le, p in transition.changes)[path])


def test_a_registry_kept_outside_the_runs_root_is_shown_by_its_source_versions(tmp_path: Path):
    """A ``git`` registry: its records carry a source_ref (``repo@<commit>``), not a run id."""
    from git_repositories import GitRepo
    from source_kind import SourceWorkspace

    ws = SourceWorkspace.create(tmp_path / "ws", {"tracked": {"kind": "git", "repo": "repo", "ref": "refs/heads/main", "path": "data"}})
    repo = GitRepo(ws.root / "repo")
    repo.write("data/a <1>.txt", b"1\n")
    first = repo.commit("first")
    repo.write("data/a <1>.txt", b"2\n")
    repo.write("data/b.txt", b"b\n")
    second = repo.commit("second")
    assert ws.cli("delta", "build", "--at", "2030-01-01T00:00:00Z").returncode == 0
    # Books that do not know the build's operation: a failed check, shown — and the site written.
    unsynced = ws.cli("report", "html", "--out", str(tmp_path / "unsynced"), "--at", "2030-01-02T00:00:00Z")
    assert unsynced.returncode == 1 and "check failed: governance check: " in unsynced.stdout
    assert "✘ failed" in (tmp_path / "unsynced" / "index.html").read_text(encoding="utf-8")
    assert ws.cli("governance", "sync", "--at", "2099-01-01T00:00:00Z").returncode == 0  # the books learn the build's op
    result = ws.cli("report", "html", "--out", str(tmp_path / "site"), "--at", "2030-01-02T00:00:00Z")
    assert result.returncode == 0, result.stdout + result.stderr
    overview = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<code>tracked</code></a></td><td>git</td>", overview)
    page = next((tmp_path / "site" / "registries").glob("tracked-*[0-9a-f].html")).read_text(encoding="utf-8")
    labels = re.findall(r'<text class="when"[^>]*>([^<]*)</text>', page)
    assert labels == [f"repo@{first}", f"repo@{second}"]
    assert f"<td><code>repo@{first}</code></td><td><code>repo@{second}</code></td><td>manifest_diff</td>" in page
    assert "a &lt;1&gt;.txt" in page and "a <1>.txt" not in page


def test_pages_stay_small_however_many_transitions_or_paths(tmp_path: Path):
    """A page holds at most 500 transitions and 5,000 changed paths; a bootstrap of 12,000
    paths has a page of its own listing the first 5,000 and saying how many more."""
    from govern.governance.evidence import registry_records
    from govern.governance.html_pages import CHANGES_PER_PAGE, TRANSITIONS_PER_PAGE, registry_pages, transition_pages
    from govern.governance.html_site import LoggedTransition, RegistrySite
    from govern.log.query import select_transitions

    def ref(n: int) -> dict:
        return {"run_id": f"2024-01-01__{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}__s", "run_root": "r", "relpath": "d", "manifest_sha256": "0" * 64}

    paths = [f"d/{i:05d}" for i in range(12_000)]
    records = [{"registry_id": "big", "from_ref": None, "to_ref": ref(0), "delta_basis": "manifest_diff", "added_paths": paths,
                "removed_paths": [], "modified_paths": [], "counts": {"added": len(paths), "removed": 0, "modified": 0}}]
    for n in range(1, 1_201):
        records.append({"registry_id": "big", "from_ref": ref(n - 1), "to_ref": ref(n), "delta_basis": "manifest_diff", "added_paths": [],
                        "removed_paths": [], "modified_paths": [paths[n]], "counts": {"added": 0, "removed": 0, "modified": 1}})
    items = [LoggedTransition(line, t) for line, t in enumerate(select_transitions(records, registry="big"), start=1)]
    pages = transition_pages(items)
    assert [len(page) for page in pages] == [1, 500, 500, 200]
    assert [item for page in pages for item in page] == items
    assert all(len(p) <= TRANSITIONS_PER_PAGE and (len(p) == 1 or sum(len(i.transition.changes) for i in p) <= CHANGES_PER_PAGE) for p in pages)
    registry = RegistrySite("big", "sealed", "covered", None, registry_records(records)[0], tuple(items))
    files = registry_pages(registry, None)
    first = files[f"registries/{registry.slug}.html"].decode("utf-8")
    assert first.count("<tr><td data-sort=\"1\">") + first.count('<tr id="chg-1"><td data-sort="1">') == CHANGES_PER_PAGE + 1
    assert "and 7000 more paths" in first
    assert len([name for name in files if name.endswith("-paths.html") or "-paths-" in name]) == 12  # 12,000 paths, 1,000 a page


_UNIVERSE = ("a", "a/b", "a/b/c", "a-b", "b", "b/<x>", "é")


@st.composite
def _logs(draw: st.DrawFn) -> list[dict]:
    """One registry's records: random changes over paths that may be files and folders of one
    another (a file replaced by a folder of that name), some of basis unknown."""
    records = []
    for n in range(draw(st.integers(1, 8))):
        ref = {"run_id": f"2024-01-01__0000{n:02d}__s", "run_root": "r", "relpath": draw(st.sampled_from([None, "a", "b/<x>", "z"])), "manifest_sha256": "0" * 64}
        record = {"registry_id": "r", "from_ref": records[-1]["to_ref"] if records else None, "to_ref": ref}
        if n and draw(st.integers(0, 4)) == 0:
            record.update(delta_basis="unknown", added_paths=[], removed_paths=[], modified_paths=[], counts=None, unknown_reason="x")
        else:
            changed = draw(st.lists(st.sampled_from(_UNIVERSE), unique=True))
            kinds = draw(st.lists(st.sampled_from(["added", "removed", "modified"]), min_size=len(changed), max_size=len(changed)))
            record["delta_basis"] = "manifest_diff"
            for field in ("added", "removed", "modified"):
                record[f"{field}_paths"] = sorted(p for p, k in zip(changed, kinds) if k == field)
            record["counts"] = {field: len(record[f"{field}_paths"]) for field in ("added", "removed", "modified")}
        records.append(record)
    return records


@given(_logs())
@settings(max_examples=200, deadline=None)
def test_path_histories_are_delta_show_path_for_every_path(records: list[dict]):
    from govern.log.query import UNKNOWN_LETTER, path_histories, select_transitions

    histories = path_histories(select_transitions(records, registry="r"))
    changed = sorted({p for r in records if r["delta_basis"] != "unknown" for f in ("added", "removed", "modified") for p in r[f"{f}_paths"]})
    assert list(histories) == changed
    for path, history in histories.items():
        assert [t.record for t, _ in history] == [t.record for t in select_transitions(records, registry="r", path=path)], path
        for transition, letter in history:
            own = [le for le, p in transition.changes if p == path]
            under = [le for le, p in transition.changes if p.startswith(path + "/")]
            assert letter == (UNKNOWN_LETTER if transition.unknown else own[0] if own else under[0])


def test_an_s3_runs_root_gives_the_same_registry_pages_as_a_local_disk(seaweedfs, built_twice, tmp_path: Path):
    """On s3:// every check and every sealed file is read through the store: the registry
    pages and the log's copy are byte-identical to those of the same build on a local disk."""
    from govern.testing import invoke_cli

    s3_workspace, local_workspace, _located = built_twice
    env = seaweedfs.environ()
    sites = {}
    for name, workspace in (("s3", s3_workspace), ("local", local_workspace)):
        sites[name] = tmp_path / name
        result = invoke_cli("-C", workspace, "report", "html", "--out", str(sites[name]), "--at", CHANGE_AT, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    s3_files, local_files = _site_bytes(sites["s3"]), _site_bytes(sites["local"])
    assert sorted(s3_files) == sorted(local_files)
    same = [name for name in s3_files if name.startswith("registries/") or name.endswith(".jsonl")]
    assert len(same) == 17 and all(s3_files[name] == local_files[name] for name in same)
