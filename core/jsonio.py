"""Deprecated path: moved to govern.format.jsonio, govern.store.files (see :mod:`govern._moved`); goes in govern 0.2."""

from govern._moved import forwarding

__getattr__ = forwarding(__name__, "govern.format.jsonio", "govern.store.files")
