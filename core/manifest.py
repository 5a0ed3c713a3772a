"""Deprecated path: moved to govern.format.manifest, govern.seal.seal_file (see :mod:`govern._moved`); goes in govern 0.2."""

from govern._moved import forwarding

__getattr__ = forwarding(__name__, "govern.format.manifest", "govern.seal.seal_file")
