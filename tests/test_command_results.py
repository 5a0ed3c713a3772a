"""Typed results, one renderer (issue 12 point 4).

Every command hands one typed result (a :class:`govern.cli.rendering.CommandResult`) to
``Output.show``; its type has exactly one text and one JSON renderer, and what ``--json``
prints is that JSON renderer's output (and what text mode prints, the text renderer's).
The commands run in this process (``govern.testing.invoke_cli``) on a real workspace in a
temporary directory; ``Output.show`` is wrapped only to keep a copy of the result it is given.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import attrs
import pytest

from govern.testing import ScratchWorkspace, invoke_cli

AT = "2024-03-01T00:00:00Z"
#: Changelog dates of the books: after the clock `govern init` wrote them with (now).
BOOKS_AT = "2099-01-01T00:00:00Z"
RUN_A = "2024-01-01__000000__alpha"
RUN_B = "2024-01-02__000000__beta"
ARTIFACT = "RUN_REGISTRY_v0_1.jsonl"
#: The built-in modules that define commands: every *_cmd module of govern.cli, and the
#: built-in plugins' command modules.
PLUGIN_COMMAND_MODULES = ("govern.plugins.governance_cli", "govern.plugins.report_cli", "govern.plugins.bagit.export_cli")


def _command_modules() -> list[str]:
    import govern.cli

    cli_modules = [f"govern.cli.{m.name}" for m in pkgutil.iter_modules(govern.cli.__path__) if m.name.endswith("_cmd")]
    return sorted(cli_modules) + list(PLUGIN_COMMAND_MODULES)


def _result_types() -> dict[str, type]:
    """Every CommandResult subclass the command modules define, by name."""
    from govern.cli.rendering import CommandResult

    for name in _command_modules():
        importlib.import_module(name)
    found: dict[str, type] = {}
    pending = list(CommandResult.__subclasses__())
    while pending:
        cls = pending.pop()
        # attrs builds a new (slotted) class: the class it replaced may linger among the
        # subclasses until collected, so only the one its module names counts.
        module = importlib.import_module(cls.__module__)
        if cls.__module__ in _command_modules() and getattr(module, cls.__name__, None) is cls:
            found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def _command_paths() -> set[str]:
    """Every leaf command of the root app with the built-in plugins (``delta build``, ``seal``…)."""
    from govern.cli.app import build_app
    from govern.cli.output import Output

    paths: set[str] = set()

    def walk(command: Any, prefix: tuple[str, ...]) -> None:
        subs = getattr(command, "commands", None)
        if not subs:
            paths.add(" ".join(prefix))
            return
        for name, sub in subs.items():
            walk(sub, (*prefix, name))

    walk(build_app(Output()), ())
    return paths


def test_every_result_type_has_exactly_one_text_and_one_json_renderer():
    from govern.cli.rendering import CommandResult, json_renderer, renderers, text_renderer

    types = _result_types()
    assert set(COMMAND_RESULTS.values()) <= set(types), "a command's result type is not a CommandResult of the command modules"
    for name, cls in types.items():
        assert attrs.has(cls) and cls.__setattr__ is not object.__setattr__, f"{name} is not a frozen attrs class"
        text, to_json = renderers(cls)
        assert text is not None, f"{name} has no text renderer"
        assert to_json is not None, f"{name} has no JSON renderer"
        # A second renderer for the same type is refused: there is exactly one of each.
        with pytest.raises(RuntimeError, match="already has a text renderer"):
            text_renderer(cls)(lambda result: [])
        with pytest.raises(RuntimeError, match="already has a JSON renderer"):
            json_renderer(cls)(lambda result: {})
    # A result type that is not a CommandResult cannot get a renderer at all.
    with pytest.raises(TypeError):
        text_renderer(dict)  # type: ignore[arg-type]
    assert issubclass(types["VerifyResult"], CommandResult)


def test_command_modules_report_only_through_typed_results():
    """No built-in command hands ready-made data and lines to Output.emit (kept for plugins)."""
    for name in _command_modules():
        source = Path(importlib.import_module(name).__file__).read_text(encoding="utf-8")
        assert ".emit(" not in source, f"{name} bypasses the typed results"
        assert "print(" not in source, f"{name} prints"


#: Each built-in command and the result type it shows.
COMMAND_RESULTS = {
    "init": "InitResult",
    "seal": "SealedRunResult",
    "publish": "PublishResult",
    "verify": "VerifyResult",
    "attest": "AttestResult",
    "delta build": "DeltaBuildResult",
    "delta show": "DeltaShowResult",
    "check": "WorkspaceCheckResult",
    "log keygen": "KeygenResult",
    "log checkpoint": "CheckpointResult",
    "log prove": "ProofResult",
    "log consistency": "ProofResult",
    "log verify-proof": "ProofCheckResult",
    "log cosign": "CosignResult",
    "diff": "DiffResult",
    "validate": "ValidateResult",
    "repair": "RepairResult",
    "gc": "GcResult",
    "registry list": "RegistryListResult",
    "registry show": "RegistryShowResult",
    "registry add": "RegistryAddResult",
    "registry remove": "RegistryRemoveResult",
    "plugins list": "PluginListResult",
    "governance add-op": "OperationAddedResult",
    "governance remove-op": "OperationRemovedResult",
    "governance sync": "SyncResult",
    "governance freeze": "FreezeResult",
    "governance addendum": "AddendumResult",
    "governance scorecard": "ScorecardResult",
    "governance check": "GovernanceCheckResult",
    "report validation": "ReportResult",
    "report completion": "ReportResult",
    "report html": "HtmlReportResult",
    "snapshot": "SnapshotResult",
    "export": "ExportResult",
}


def test_every_command_has_a_result_type():
    assert _command_paths() == set(COMMAND_RESULTS)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The results commands hand to ``Output.show``, in order."""
    from govern.cli.output import Output

    results: list[Any] = []
    original = Output.show

    def keep(self: Output, result: Any) -> None:
        results.append(result)
        original(self, result)

    monkeypatch.setattr(Output, "show", keep)
    return results


def _signer_key(root: Path) -> Path:
    """A signer key file under ``root`` (and its verifier key, ``signer.pub``)."""
    from govern.format.note_keys import generate_key

    signer, verifier = generate_key("results.example")
    (root / "signer.key").write_text(signer + "\n")
    (root / "signer.pub").write_text(verifier + "\n")
    return root / "signer.key"


def _scenarios(root: Path, ws: ScratchWorkspace) -> list[tuple[str, list[str], bool]]:
    """(command, argv after ``govern -C ROOT``, read-only) in an order that makes each meaningful."""
    from govern.format.note_keys import generate_key

    run_b = ws.runs_root / RUN_B
    signer_key, verifier_key = generate_key("results.example")
    key, vkey = root / "log.key", root / "log.vkey"  # not _signer_key's files
    key.write_text(signer_key + "\n")
    vkey.write_text(verifier_key + "\n")
    checkpoint, proof = str(root / "checkpoint.note"), str(root / "proof.json")
    return [
        ("seal", ["seal", str(run_b), "--at", AT], False),
        ("publish", ["publish", RUN_B], True),  # to its own runs root: already published
        ("verify", ["verify", "--all", "--log"], True),
        ("delta build", ["delta", "build", "--dry-run", "--at", AT], True),
        ("delta build", ["delta", "build", "--at", AT], False),
        ("delta build", ["delta", "build", "--at", AT], True),  # up to date
        ("delta show", ["delta", "show"], True),
        ("log keygen", ["log", "keygen", "results.example", "--out", str(root / "keygen.key")], False),
        ("log checkpoint", ["log", "checkpoint"], True),
        ("log checkpoint", ["log", "checkpoint", "--key", str(key), "--out", checkpoint], True),
        ("log prove", ["log", "prove", "--record", "0", "--out", proof], True),
        ("log consistency", ["log", "consistency", "--from", "1"], True),
        ("log verify-proof", ["log", "verify-proof", proof, "--checkpoint", checkpoint, "--vkey", str(vkey)], True),
        ("log cosign", ["log", "cosign", checkpoint, "--key", str(key), "--state", str(root / "witness"), "--vkey", str(vkey), "--at", AT], False),
        ("delta show", ["delta", "show", "--path", "RUN_REGISTRY_v0_1.jsonl", "--registry", "run_registry"], True),
        ("verify", ["verify", RUN_A, RUN_B], True),
        ("attest", ["attest", RUN_A, "--key", str(_signer_key(root)), "--out", str(root / "a.dsse.json")], False),
        ("verify", ["verify", "--attestation", str(root / "a.dsse.json"), "--vkey", str(root / "signer.pub")], True),
        ("diff", ["diff", RUN_A, RUN_B], True),
        ("export", ["export", RUN_A, "--format", "bagit", str(root / "bag")], False),
        ("validate", ["validate"], True),
        ("repair", ["repair", "--log", "--dry-run"], True),
        ("gc", ["gc", "--older-than", "1d", "--dry-run", "--at", AT], True),
        ("registry list", ["registry", "list"], True),
        ("registry show", ["registry", "show", "run_registry"], True),
        ("registry add", ["registry", "add", "extra", "--kind", "sealed", "--artifact", "EXTRA.json", "--dry-run"], True),
        ("registry add", ["registry", "add", "extra", "--kind", "sealed", "--artifact", "EXTRA.json"], False),
        ("registry remove", ["registry", "remove", "extra", "--at", BOOKS_AT], False),
        ("plugins list", ["plugins", "list"], True),
        ("governance sync", ["governance", "sync", "--at", BOOKS_AT], False),
        ("governance sync", ["governance", "sync", "--at", BOOKS_AT], True),  # up to date
        (
            "governance add-op",
            ["governance", "add-op", "OP-ZZ01", "--title", "Z", "--executable", "z.py", "--coverage", "C0", "--at", BOOKS_AT],
            False,
        ),
        ("governance remove-op", ["governance", "remove-op", "OP-ZZ01", "--at", BOOKS_AT], False),
        ("governance scorecard", ["governance", "scorecard"], True),
        ("governance check", ["governance", "check"], True),
        ("check", ["check"], True),
        ("governance freeze", ["governance", "freeze", "--at", BOOKS_AT], False),
        ("governance freeze", ["governance", "freeze", "--at", BOOKS_AT], True),  # already frozen
        ("governance addendum", ["governance", "addendum", "--label", "later", "--at", BOOKS_AT], False),
        ("report validation", ["report", "validation", "--at", BOOKS_AT], True),
        ("report completion", ["report", "completion", "--at", BOOKS_AT, "--out", str(root / "completion.md")], False),
        ("report html", ["report", "html", "--at", BOOKS_AT, "--out", str(root / "site")], False),
    ]


def _check(shown: list[Any], command: str, args: list[str], *, read_only: bool) -> None:
    from govern.cli.rendering import render_text, to_json

    before = len(shown)
    result = invoke_cli(*args, "--json") if args[0] == "init" else invoke_cli(*args[:2], "--json", *args[2:])
    assert result.stdout, f"{command}: nothing on stdout ({result.stderr})"
    document = json.loads(result.stdout)
    assert len(shown) == before + 1, f"{command}: showed {len(shown) - before} results ({result.stdout} {result.stderr})"
    typed = shown[-1]
    assert type(typed).__name__ == COMMAND_RESULTS[command], command
    assert document["command"] == command
    assert document["error"] is None, f"{command}: {document['error']}"
    # What --json printed is the JSON renderer's output, through the same json.dumps round trip.
    assert document["result"] == json.loads(json.dumps(to_json(typed))), command
    assert document["exit_code"] == result.returncode == typed.exit_code, command
    if read_only:
        # Text mode of the same command prints the text renderer's lines, and nothing else.
        text = invoke_cli(*args)
        again = shown[-1]
        assert type(again) is type(typed)
        assert text.stdout == "".join(line + "\n" for line in render_text(again)), command
        assert text.returncode == result.returncode, command


def test_each_commands_json_output_is_its_renderers(tmp_path: Path, shown: list[Any]):
    fresh = tmp_path / "fresh"
    _check(shown, "init", ["init", str(fresh)], read_only=False)

    root = tmp_path / "ws"
    ws = ScratchWorkspace.create(root, {"run_registry": {"kind": "sealed", "artifact": ARTIFACT}})
    ws.run(RUN_A, {ARTIFACT: '{"run": 1}\n', "notes.txt": "a\n"})
    ws.run(RUN_B, {ARTIFACT: '{"run": 1}\n{"run": 2}\n', "notes.txt": "b\n"}, seal=False)
    seen = set()
    for command, args, read_only in _scenarios(root, ws):
        _check(shown, command, ["-C", str(root), *args], read_only=read_only)
        seen.add(command)
    _check(shown, "snapshot", ["-C", str(_table_workspace(tmp_path / "tables")), "snapshot", "thresholds", "--at", AT], read_only=False)
    assert seen | {"init", "snapshot"} == set(COMMAND_RESULTS)


def _table_workspace(root: Path) -> Path:
    """A workspace with one sql_table registry over a small SQLite file."""
    import sqlite3

    ScratchWorkspace.create(root, {"thresholds": {"kind": "sql_table", "dsn": "sqlite:///db.sqlite", "table": "thresholds"}})
    with sqlite3.connect(root / "db.sqlite") as connection:
        connection.execute("CREATE TABLE thresholds (metric TEXT PRIMARY KEY, warn REAL)")
        connection.execute("INSERT INTO thresholds VALUES ('auc', 0.7)")
    connection.close()
    return root
