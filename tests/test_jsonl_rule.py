"""One JSONL reading rule for every caller (issue 12, point 1: "today four readers disagree on
blank and CRLF lines").

The same crafted logs — a blank line, a whitespace-only line, a CRLF ending, a byte-order mark,
a last line without its newline — are fed to every place that reads JSON Lines: the format
layer's reader, the delta-log reader (``delta show``, ``registry show`` and the governance
evidence use it), ``govern validate``, ``govern verify --log``, and the example plugin's
record reader. Each must refuse the same line for the same reason (or accept the same input).
``govern repair --log`` is the one reader for which a torn last line is not only an error but
the tail it cuts: it names the same line.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from govern.errors import GovernError
from govern.format.jsonio import StrictJSONError
from govern.format.jsonl import TornLineError, parse_jsonl
from govern.log.delta_log import parse_log_lines
from govern.testing import ScratchWorkspace
from helpers import seal_in_process

REPO = Path(__file__).resolve().parent.parent
LOG = "REGISTRY_DELTA_LOG_v0_1.jsonl"
BOM = b"\xef\xbb\xbf"

#: name -> (how to make the log from its two canonical lines, the refused line and reason).
CASES = {
    "canonical": (lambda a, b: a + b"\n" + b + b"\n", None),
    "blank line": (lambda a, b: a + b"\n\n" + b + b"\n", (2, "blank line")),
    "whitespace-only line": (lambda a, b: a + b"\n \t\n" + b + b"\n", (2, "blank line")),
    "CRLF ending": (lambda a, b: a + b"\r\n" + b + b"\n", (1, "CRLF line ending")),
    "byte-order mark": (lambda a, b: BOM + a + b"\n" + b + b"\n", (1, "byte-order mark")),
    "no final newline": (lambda a, b: a + b"\n" + b, (2, "no newline")),
}


def _example_records_module():
    """The example plugin's record reader, loaded from its source (it imports govern.api only)."""
    path = REPO / "examples" / "govern-jsonl-records" / "src" / "govern_jsonl_records" / "records.py"
    spec = importlib.util.spec_from_file_location("example_jsonl_records", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScratchWorkspace, Path, bytes]:
    """A workspace with one build of two records (the bootstraps of two registries, so that
    ``registry_id`` keys them); the build run and its log's bytes."""
    registries = {"alpha": {"kind": "sealed", "artifact": "A.json"}, "beta": {"kind": "sealed", "artifact": "B.json"}}
    workspace = ScratchWorkspace.create(tmp_path_factory.mktemp("jsonl"), registries)
    workspace.run("2024-01-01__000000__first", {"A.json": "{}\n"})
    workspace.run("2024-01-02__000000__second", {"B.json": "[]\n"})
    assert workspace.cli("delta", "build", "--at", "2024-03-01T00:00:00Z").returncode == 0
    build = workspace.latest_build()
    assert build is not None
    return workspace, build, (build / LOG).read_bytes()


def _with_log(built: tuple[ScratchWorkspace, Path, bytes], data: bytes) -> tuple[ScratchWorkspace, Path]:
    """The build's log replaced by ``data`` and the build re-sealed over it (so that every
    reader reaches the lines instead of stopping at a seal that does not match)."""
    workspace, build, _ = built
    (build / LOG).write_bytes(data)
    seal_in_process(build, reseal=True)
    return workspace, build


def _line_and_reason(where: str, message: str) -> tuple[int, str]:
    """``(line, message)`` from a problem whose place ends ``…: line N`` or ``…:N``."""
    tail = where.rsplit("line ", 1)[-1] if "line " in where else where.rsplit(":", 1)[-1]
    return int(tail), message


def _agrees(found: tuple[int, str] | None, expected: tuple[int, str] | None, who: str) -> None:
    if expected is None:
        assert found is None, f"{who} refused a canonical log: {found}"
        return
    assert found is not None, f"{who} accepted a log with a bad line {expected}"
    assert found[0] == expected[0] and expected[1] in found[1], f"{who}: {found}, expected line {expected[0]}: {expected[1]}"


def _format_reader(data: bytes) -> tuple[int, str] | None:
    try:
        list(parse_jsonl(data))
    except StrictJSONError as exc:
        assert exc.line is not None
        return exc.line, exc.reason
    return None


def _log_reader(data: bytes) -> tuple[int, str] | None:
    try:
        parse_log_lines(data, LOG)
    except GovernError as error:
        assert error.code in ("E_LOG_INVALID", "E_LOG_TORN")
        where, _, reason = error.message.removeprefix(f"{LOG}: ").partition(": ")
        return int(where.removeprefix("line ")), reason
    return None


def _problem_lines(problems: list[dict]) -> tuple[int, str] | None:
    """The first problem of a line of the log, or None. Problems of the file as a whole (run.json's
    record count) and of later lines (a record no longer linking to the refused one) follow from
    it; the reading rule decides the first."""
    lines = sorted(_line_and_reason(p["where"], p["message"]) for p in problems if p["where"].split("/")[-1].startswith(LOG))
    return lines[0] if lines else None


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_jsonl_reader_refuses_the_same_line_for_the_same_reason(built, case: str) -> None:
    make, expected = CASES[case]
    _, _, canonical = built
    first, second = canonical.split(b"\n")[:2]
    data = make(first, second)
    workspace, build = _with_log(built, data)

    _agrees(_format_reader(data), expected, "govern.format.jsonl.parse_jsonl")
    _agrees(_log_reader(data), expected, "govern.log.delta_log.parse_log_lines")

    validated = workspace.cli("--json", "validate", build / LOG).json()["result"]["files"][0]
    _agrees(_problem_lines(validated["problems"]), expected, "govern validate")

    verified = workspace.cli("--json", "verify", "--log").json()["result"]["log"]["builds"][0]
    _agrees(_problem_lines(verified["problems"]), expected, "govern verify --log")

    shown = workspace.cli("--json", "delta", "show").json()
    found = None
    if shown["error"] is not None:
        message = shown["error"]["message"].removeprefix(f"{build.name}/{LOG}: ")
        where, _, reason = message.partition(": ")
        found = int(where.removeprefix("line ")), reason
    _agrees(found, expected, "govern delta show")

    # A plugin reading a JSONL artifact with govern.api.parse_jsonl accepts exactly what govern does.
    keyed = _example_records_module().keyed_records(data, "registry_id")
    assert (keyed is None) == (expected is not None), f"the example plugin's reader on {case}: {keyed}"


def test_a_torn_tail_is_the_same_line_to_every_reader_and_the_tail_repair_cuts(built) -> None:
    workspace, build, canonical = built
    _with_log(built, canonical)
    torn = canonical + b'{"registry_id":'  # an append cut short after the build was sealed
    (build / LOG).write_bytes(torn)
    expected = (3, "no newline")

    with pytest.raises(TornLineError) as caught:
        list(parse_jsonl(torn))
    assert caught.value.line == 3
    _agrees(_log_reader(torn), expected, "govern.log.delta_log.parse_log_lines")

    shown = workspace.cli("delta", "show")
    assert shown.returncode == 1 and f"E_LOG_TORN: {build.name}/{LOG}: line 3: " in shown.stderr, shown.stderr
    verified = workspace.cli("--json", "verify", "--log").json()["result"]["log"]["builds"][0]["problems"]
    assert any(p["code"] == "E_LOG_TORN" and p["where"].endswith(f"{LOG}: line 3") for p in verified), verified

    repaired = workspace.cli("--json", "repair", "--log", "--dry-run")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "line 3" in repaired.stdout, repaired.stdout
