"""Built-in plugin: SHA-256 seals (manifest.json + MANIFEST.sha256), written and verified."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from govern import hookimpl

if TYPE_CHECKING:
    from govern.format.manifest import SealCheck
    from govern.runtime.progress import Progress
    from govern.seal.sealing import SealResult

# Built-ins import their machinery inside the hooks: loading plugins happens on every command,
# even `govern --help`, and should not pay for code the command never runs.


@hookimpl
def govern_seal(run_dir: Path, envelope: dict[str, Any], reseal: bool, progress: Progress) -> SealResult:
    """Seal with manifest.json and a sha256sum-compatible MANIFEST.sha256."""
    from govern.seal.sealing import seal_run

    return seal_run(run_dir, envelope=envelope, reseal=reseal, progress=progress)


@hookimpl
def govern_verify_seal(run_dir: Path, deep: bool, progress: Progress) -> SealCheck:
    """Check the seal; with ``deep``, every payload file too."""
    from govern.seal.seal_file import read_seal
    from govern.seal.verification import verify_run

    return verify_run(run_dir, progress) if deep else read_seal(run_dir)
