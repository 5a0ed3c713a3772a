"""Per-invocation state shared by every command: global options, output, workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from govern.cli.output import Output
from govern.locking import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from govern.config import Workspace


class CliState:
    """Global options of one ``govern`` invocation and the objects derived from them."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self.workspace_dir: Path | None = None
        self.lock_timeout: float = DEFAULT_LOCK_TIMEOUT
        self.strict_plugins: bool = False
        self._workspace: Workspace | None = None

    def workspace(self) -> Workspace:
        """The workspace (``-C DIR`` or found by walking up), loaded once."""
        if self._workspace is None:
            from govern.config import load_workspace

            self._workspace = load_workspace(explicit=self.workspace_dir)
        return self._workspace
