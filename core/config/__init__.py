"""The workspace configuration: finding the workspace root, reading and checking registry_config.toml.

``from govern.config import Registry, Workspace`` (govern 0.1's path) keeps working until
govern 0.2 with a DeprecationWarning; plugins import these from :mod:`govern.api`.
"""

from govern._moved import forwarding

__getattr__ = forwarding(__name__, "govern.config.workspace")
