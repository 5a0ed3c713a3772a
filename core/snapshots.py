"""Deprecated path: moved to govern.runs.snapshots (see :mod:`govern._moved`); goes in govern 0.2."""

from govern._moved import forwarding

__getattr__ = forwarding(__name__, "govern.runs.snapshots")
