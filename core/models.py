"""Deprecated path: moved to govern.format.models, govern.runs.views, govern.format.artifact_paths, govern.config.workspace (see :mod:`govern._moved`); goes in govern 0.2."""

from govern._moved import forwarding

__getattr__ = forwarding(__name__, "govern.format.models", "govern.runs.views", "govern.format.artifact_paths", "govern.config.workspace")
