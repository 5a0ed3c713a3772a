"""Version of the govern framework (single source, read by packaging and ``--version``)."""

__version__ = "0.1.0"

#: pluggy project name and entry-point group.
PROJECT_NAME = "govern"
