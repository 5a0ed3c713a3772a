"""``govern verify``'s quick answer (issue 18, start-up): a plain ``govern verify RUN…`` of small
intact runs is answered before typer, the plugin host and the models are imported
(:mod:`govern.cli.quick_verify`, :mod:`govern.seal.quick_check`).

The quick rule must never be wider than the full check: whatever is done to a run, the quick
check either declines or gives exactly what :func:`govern.seal.verification.verify_run`
gives, and the command prints the same bytes either way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from govern.cli.quick_verify import disables_no_plugin
from govern.seal.quick_check import QUICK_MAX_FILES, intact_run
from helpers import RUN_ID, make_run, pin_manifest, seal_in_process, sha256_hex, verify_in_process

PLAIN_NAMES = st.sampled_from(["a", "b", "data", "x.csv", "Report_1.json", "z-9", "n+1", "k=v"])
FILE_PATHS = st.lists(st.lists(PLAIN_NAMES, min_size=1, max_size=3).map("/".join), min_size=1, max_size=6, unique=True)


def _without_conflicts(paths: list[str]) -> list[str]:
    """Drop paths that would make another path's folder a file (``a`` and ``a/b``)."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        parts = path.split("/")
        prefixes = {"/".join(parts[:i]) for i in range(1, len(parts))}
        if not prefixes & set(kept) and not any(other.startswith(path + "/") for other in kept):
            kept.append(path)
    return kept


def _damage(run: Path, how: str, first: str) -> None:
    """Do ``how`` to the sealed run ``run`` whose first listed file is ``first``."""
    target = run / first
    if how == "flip a byte":
        data = bytearray(target.read_bytes() or b"\0")
        data[0] ^= 1
        target.write_bytes(bytes(data))
    elif how == "append a byte":
        with open(target, "ab") as handle:
            handle.write(b"!")
    elif how == "remove a file":
        target.unlink()
    elif how == "add an unlisted file":
        (run / "extra.txt").write_bytes(b"extra")
    elif how == "add a name equal once lower-cased":
        target.with_name(target.name.upper() if target.name != target.name.upper() else target.name.lower()).write_bytes(b"twin")
    elif how == "list a name equal once lower-cased":
        twin = target.with_name(target.name.upper() if target.name != target.name.upper() else target.name.lower())
        twin.write_bytes(target.read_bytes())
        _relist(run)
    elif how == "list a file in a folder named with a space":
        (run / "a b").mkdir()
        (run / "a b" / "c").write_bytes(b"c")
        _relist(run)
    elif how == "replace a file by a symlink":
        copy = run.parent / "elsewhere"
        copy.write_bytes(target.read_bytes())
        target.unlink()
        target.symlink_to(copy)
    elif how == "add a FIFO":
        os.mkfifo(run / "pipe")
    elif how == "add an empty folder":
        (run / "empty").mkdir()
    elif how == "add an empty folder with a hidden name":
        (run / ".cache").mkdir()
    elif how == "add a hidden file":
        (run / ".hidden").write_bytes(b"")
    elif how == "add a name with a space":
        (run / "a b").write_bytes(b"")
    elif how == "rewrite the manifest with other whitespace":
        pin_manifest(run, json.dumps(json.loads((run / "manifest.json").read_bytes()), indent=4).encode() + b"\n")
    elif how == "give a manifest key twice":
        data = (run / "manifest.json").read_bytes()
        pin_manifest(run, data.replace(b'"algorithm"', b'"algorithm": "md5",\n  "algorithm"', 1))
    elif how == "name another run in the manifest":
        data = (run / "manifest.json").read_bytes()
        pin_manifest(run, data.replace(RUN_ID.encode(), b"2024-01-02__030405__other_run"))
    elif how == "change the seal line":
        (run / "MANIFEST.sha256").write_bytes(b"0" * 64 + b"  manifest.json\n")
    elif how == "make the seal a symlink":
        (run.parent / "seal").write_bytes((run / "MANIFEST.sha256").read_bytes())
        (run / "MANIFEST.sha256").unlink()
        (run / "MANIFEST.sha256").symlink_to(run.parent / "seal")
    elif how == "add an attestation file":
        (run / "attestation.dsse.json").write_bytes(b"{}")
    elif how == "make the attestation a folder":
        (run / "attestation.dsse.json").mkdir()
    elif how == "touch a file":
        os.utime(target, ns=(1, 1))
    elif how != "nothing":
        raise AssertionError(how)


def _relist(run: Path) -> None:
    """Rewrite the run's manifest, as govern writes one, to list every file now in it (its
    names unchecked: how a forged manifest lists what sealing would refuse)."""
    from govern.format.manifest import manifest_bytes

    files = sorted(
        str(path.relative_to(run)) for path in run.rglob("*") if path.is_file() and path.name not in ("manifest.json", "MANIFEST.sha256")
    )
    entries = [(name, sha256_hex((run / name).read_bytes()), (run / name).stat().st_size) for name in files]
    pin_manifest(run, manifest_bytes(run.name, entries))


DAMAGE = [
    "list a name equal once lower-cased",
    "list a file in a folder named with a space",
    "nothing",
    "flip a byte",
    "append a byte",
    "remove a file",
    "add an unlisted file",
    "add a name equal once lower-cased",
    "replace a file by a symlink",
    "add a FIFO",
    "add an empty folder",
    "add an empty folder with a hidden name",
    "add a hidden file",
    "add a name with a space",
    "rewrite the manifest with other whitespace",
    "give a manifest key twice",
    "name another run in the manifest",
    "change the seal line",
    "make the seal a symlink",
    "add an attestation file",
    "make the attestation a folder",
    "touch a file",
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=FILE_PATHS, contents=st.lists(st.binary(max_size=64), min_size=6, max_size=6), how=st.sampled_from(DAMAGE))
def test_the_quick_check_declines_or_agrees_with_the_full_check(tmp_path_factory, paths, contents, how):
    paths = _without_conflicts(paths)
    root = tmp_path_factory.mktemp("quick")
    run = make_run(root, RUN_ID, {path: contents[i % len(contents)] for i, path in enumerate(paths)})
    seal_in_process(run)
    _damage(run, how, sorted(paths)[0])
    quick = intact_run(str(run))
    full = verify_in_process(run)
    if quick is not None:
        assert full.ok, (how, full.problems)
        assert quick == (full.root_sha256, len(full.manifest.files))
    if how in ("nothing", "touch a file", "add an attestation file", "rewrite the manifest with other whitespace"):
        assert full.ok
        # The quick check answers for these, so the fast path is really taken (a check that
        # always declined would pass the agreement above).
        assert quick is not None or how == "rewrite the manifest with other whitespace"


def test_a_run_with_more_files_than_the_quick_limit_takes_the_full_check(tmp_path):
    run = make_run(tmp_path, RUN_ID, {f"f{i:04d}": b"x" for i in range(QUICK_MAX_FILES)})
    seal_in_process(run)  # run.json makes it one more than the limit
    assert verify_in_process(run).ok
    assert intact_run(str(run)) is None


def test_a_run_folder_not_named_as_a_run_is_left_to_the_full_check(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    assert intact_run(str(run)) is not None
    renamed = run.rename(tmp_path / "not_a_run")
    assert intact_run(str(renamed)) is None


def _python(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` with the test's interpreter, without the developer's GOVERN_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GOVERN_")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120)


_VERIFY_AND_SAY_WHICH = """
import sys
from govern.cli import main
code = main(["verify", {runs}])
sys.stdout.flush()
print("QUICK" if "typer" not in sys.modules else "FULL", code, file=sys.stderr)
"""


def _verify(runs: list[Path], cwd: Path, env: dict[str, str] | None = None) -> tuple[str, str, str]:
    """(stdout, which path answered, exit code) of ``govern verify RUNS`` in a fresh process."""
    done = _python(_VERIFY_AND_SAY_WHICH.format(runs=", ".join(repr(str(r)) for r in runs)), cwd, env)
    which, code = done.stderr.strip().splitlines()[-1].split()
    return done.stdout, which, code


def test_verify_answers_quickly_with_the_full_commands_bytes(tmp_path):
    runs = []
    for slug in ("one", "two"):
        run = make_run(tmp_path, f"2024-01-02__030405__{slug}", {"data/a.csv": b"a,b\n", "b.bin": b"\0" * 100})
        seal_in_process(run)
        runs.append(run)
    quick = _verify(runs, tmp_path)
    full = _verify(runs, tmp_path, {"GOVERN_QUICK_VERIFY": "0"})
    assert quick[1:] == ("QUICK", "0") and full[1:] == ("FULL", "0")
    assert quick[0] == full[0]
    assert "2 runs: 2 ok, 0 failed" in quick[0]


def test_a_damaged_run_is_answered_by_the_full_command(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    (run / "a").write_bytes(b"2")
    stdout, which, code = _verify([run], tmp_path)
    assert (which, code) == ("FULL", "1")
    assert "E_DIGEST_MISMATCH" in stdout or "E_SIZE_MISMATCH" in stdout


def test_a_workspace_disabling_a_plugin_gets_the_full_command_and_its_warning(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    (tmp_path / "registry_config.toml").write_text('[plugins]\ndisable = ["no_such_plugin"]\n')
    done = _python(_VERIFY_AND_SAY_WHICH.format(runs=repr(str(run))), tmp_path)
    assert done.stderr.strip().splitlines()[-1] == "FULL 0"
    assert "no_such_plugin" in done.stderr
    (tmp_path / "registry_config.toml").write_text("[plugins]\ndisable = []  # none\n")
    assert _verify([run], tmp_path)[1:] == ("QUICK", "0")


def test_an_option_or_a_govern_variable_gets_the_full_command(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    assert _verify([run], tmp_path, {"GOVERN_JOBS": "1"})[1] == "FULL"
    script = f"import sys\nfrom govern.cli import main\nmain(['verify', '-q', {str(run)!r}])\nprint('typer' in sys.modules, file=sys.stderr)"
    done = _python(script, tmp_path)
    assert done.stderr.strip().splitlines()[-1] == "True"


def test_a_plugin_on_pythonpath_gets_the_full_command(tmp_path):
    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    site = tmp_path / "site"
    (site / "plugin-1.0.dist-info").mkdir(parents=True)
    (site / "plugin-1.0.dist-info" / "entry_points.txt").write_text("[govern]\nmy_kind = my_kind_plugin\n")
    (site / "plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin\nVersion: 1.0\n")
    (site / "my_kind_plugin.py").write_text("")
    _, which, _ = _verify([run], tmp_path, {"PYTHONPATH": str(site)})
    assert which == "FULL"


CONFIG_LINES = st.sampled_from(
    [
        "[plugins]",
        "disable = []",
        "disable=[]  # nothing",
        'disable = ["x"]',
        "disable = [",
        '  "x",',
        "]",
        'plugins.disable = ["x"]',
        'plugins = { disable = ["x"] }',
        '"plugins".disable = ["x"]',
        "[ plugins ]",
        "['plugins']",
        "[plugins.extra]",
        "[registries.a]",
        'kind = "sealed"',
        "# plugins are loaded from entry points",
        'description = """',
        '"""',
        "",
        "   ",
        'note = "plugins"',
        '"disable" = ["x"]',
        "[[rows]]",
    ]
)


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(CONFIG_LINES, max_size=10))
def test_a_config_recognised_as_disabling_no_plugin_disables_none(lines):
    text = "\n".join(lines) + "\n"
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # the full command ignores a config it cannot read here (and reports it later)
    if disables_no_plugin(text.encode()):
        plugins = parsed.get("plugins", {})
        assert not isinstance(plugins, dict) or plugins.get("disable", []) == [], text


@pytest.mark.parametrize("path", ["registry_config.toml", "examples/covered/registry_config.toml"])
def test_the_shipped_configs_allow_the_quick_answer(path):
    assert disables_no_plugin((Path(__file__).resolve().parent.parent / path).read_bytes())


@settings(max_examples=600, deadline=None)
@example(year=1900, month=2, day=29, hour=0, minute=0, second=0)
@example(year=2000, month=2, day=29, hour=0, minute=0, second=0)
@example(year=2024, month=2, day=29, hour=23, minute=59, second=59)
@example(year=2023, month=2, day=29, hour=0, minute=0, second=0)
@example(year=0, month=1, day=1, hour=0, minute=0, second=0)
@example(year=2024, month=4, day=31, hour=0, minute=0, second=0)
@given(
    year=st.integers(0, 9999),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    hour=st.integers(0, 25),
    minute=st.integers(0, 61),
    second=st.integers(0, 61),
)
def test_a_run_ids_calendar_is_datetimes(year, month, day, hour, minute, second):
    # is_run_id checks the date by arithmetic (datetime's import is what the quick answer
    # spares); it must accept exactly the dates and times datetime does.
    import datetime

    from govern.format.paths import is_run_id

    try:
        datetime.datetime(year, month, day, hour, minute, second)
        real = True
    except ValueError:
        real = False
    assert is_run_id(f"{year:04d}-{month:02d}-{day:02d}__{hour:02d}{minute:02d}{second:02d}__slug") == real


def test_on_a_terminal_the_full_command_answers_and_draws_its_progress(tmp_path):
    # The full command draws progress bars on a terminal's stderr; the quick answer has none,
    # so it is not taken there.
    import pty

    run = make_run(tmp_path, RUN_ID, {"a": b"1"})
    seal_in_process(run)
    marker = tmp_path / "which"
    script = (
        "import sys\nfrom govern.cli import main\n"
        f"code = main(['verify', {str(run)!r}])\n"
        f"open({str(marker)!r}, 'w').write(('QUICK' if 'typer' not in sys.modules else 'FULL') + ' ' + str(code))\n"
    )
    leader, follower = pty.openpty()
    try:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GOVERN_")}
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=clean, stdout=subprocess.PIPE, stderr=follower, timeout=120, text=True)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert marker.read_text() == "FULL 0"
    assert "1 run: 1 ok, 0 failed" in done.stdout
