"""Deprecated path: moved to govern.host.hookspecs (see :mod:`govern._moved`); goes in govern 0.2."""

from govern._moved import forwarding

__getattr__ = forwarding(__name__, "govern.host.hookspecs")
