"""docs/ci.md stays true (issue 17, CI integration): its GitHub Actions workflow parses and runs
the documented commands, its ``.pre-commit-config.yaml`` is one pre-commit accepts and names
this repository's hooks, and the README and the CLI reference point to it. The hooks themselves
run through pre-commit in ``test_pre_commit_hooks.py``."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml  # PyYAML: a dependency of pre-commit, in the test extra

from ci_workspace import ci_workspace
from helpers import run_govern

ROOT = Path(__file__).resolve().parent.parent
CI_MD = ROOT / "docs" / "ci.md"


def yaml_blocks(text: str) -> list[Any]:
    """Every ```yaml block of a Markdown page, parsed."""
    return [yaml.safe_load(block) for block in re.findall(r"^```yaml\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)]


def documented_pre_commit_config() -> dict[str, Any]:
    """The ``.pre-commit-config.yaml`` example of docs/ci.md (the block with ``repos``)."""
    (config,) = [block for block in yaml_blocks(CI_MD.read_text(encoding="utf-8")) if "repos" in block]
    return config


def documented_workflow() -> dict[str, Any]:
    """The GitHub Actions workflow of docs/ci.md (the block with ``jobs``)."""
    (workflow,) = [block for block in yaml_blocks(CI_MD.read_text(encoding="utf-8")) if "jobs" in block]
    return workflow


def test_the_workflow_installs_govern_verifies_checks_and_uploads_the_report() -> None:
    """The workflow parses; its steps install govern, run `govern verify --all --log` and
    `govern check`, write the HTML report with `govern report html --out report/` and upload
    that folder as an artifact, in that order, the report also after a failed check."""
    workflow = documented_workflow()
    # YAML 1.1 reads the key `on` as True: PyYAML gives it back so.
    assert workflow.get("on", workflow.get(True)) is not None
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    runs = [step.get("run", "") for step in steps]

    def index(predicate) -> int:
        found = [i for i, step in enumerate(steps) if predicate(step)]
        assert found, f"no such step in {steps}"
        return found[0]

    install = index(lambda step: "pip install" in step.get("run", "") and "govern-framework" in step["run"])
    verify = index(lambda step: re.search(r"\bgovern\b.* verify --all --log$", step.get("run", "")))
    check = index(lambda step: re.search(r"\bgovern\b.* check$", step.get("run", "")))
    report = index(lambda step: re.search(r"\bgovern\b.* report html --out report/$", step.get("run", "")))
    upload = index(lambda step: step.get("uses", "").startswith("actions/upload-artifact@"))
    assert install < verify < check < report < upload, runs
    assert steps[upload]["with"]["path"] == "report/"
    assert steps[report].get("if") == "always()" and steps[upload].get("if") == "always()"
    assert steps[0]["uses"].startswith("actions/checkout@")


def test_the_workflows_govern_commands_pass_on_a_clean_workspace(tmp_path: Path) -> None:
    """Every `govern …` step of the workflow, run as written from the root of a repository
    keeping a workspace in `pipeline/`, passes; the report step writes the site to `report/`."""
    ci_workspace(tmp_path / "pipeline")
    commands = [shlex.split(step["run"]) for step in documented_workflow()["jobs"]["govern"]["steps"] if step.get("run", "").startswith("govern ")]
    assert len(commands) == 3
    for command in commands:
        result = run_govern(*command[1:], cwd=tmp_path)
        assert result.returncode == 0, f"{' '.join(command)}: {result.stdout}{result.stderr}"
    assert (tmp_path / "report" / "index.html").is_file()


def test_the_documented_pre_commit_config_is_valid_and_names_the_hooks(tmp_path: Path) -> None:
    """pre-commit's validator accepts the example; it uses the three hooks of
    .pre-commit-hooks.yaml, each with the `-C` argument the page explains."""
    config = documented_pre_commit_config()
    (repo,) = config["repos"]
    assert {"repo", "rev", "hooks"} <= set(repo)
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert [hook["id"] for hook in repo["hooks"]] == list(hooks)
    assert all(hook["args"][0] == "-C" for hook in repo["hooks"])
    written = tmp_path / ".pre-commit-config.yaml"
    written.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(written)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_and_the_cli_reference_point_to_ci() -> None:
    """The README has its "Use it in CI" line and lists the new options; docs/ci.md is linked."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Use it in CI" in readme and "docs/ci.md" in readme
    assert "govern verify --changed" in readme and "govern validate --changed" in readme
