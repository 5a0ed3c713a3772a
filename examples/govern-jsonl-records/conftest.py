"""Enable govern's fixtures for plugin authors (govern_workspace, govern_host, govern_cli, …)."""

pytest_plugins = ["govern.testing"]
