"""The registry artifact files among the changed files of a commit (``validate --changed``;
docs/ci.md): a changed file is validated when, inside its run, it is a registry's artifact
(or a JSON/JSONL document under a folder artifact) whose registry has a schema."""

from __future__ import annotations

from pathlib import Path

from govern.log.validation import ArtifactSchema, SealedArtifact, artifact_members, documents_under
from govern.runs.changed_paths import ChangedRuns


def changed_artifact_files(runs_root: Path, changed: ChangedRuns, artifacts: list[ArtifactSchema]) -> list[SealedArtifact]:
    """The files of the schema-bearing ``artifacts`` among the ``changed`` paths of the runs
    under ``runs_root``, by run then artifact. A path that no longer exists is passed over (a
    file deleted in the commit has nothing left to validate); one naming a folder artifact
    stands for its documents."""
    found: list[SealedArtifact] = []
    with_schema = [artifact for artifact in artifacts if artifact.schema]
    for run_id, paths in changed.runs:
        for artifact in with_schema:
            for member in artifact_members(list(paths), artifact.artifact):
                path = runs_root / run_id / member
                if path.is_dir():
                    found.extend(SealedArtifact(document, artifact) for document in documents_under(path))
                elif path.is_file():
                    found.append(SealedArtifact(path, artifact))
    return found
