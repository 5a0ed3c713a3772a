"""The runs root as the build sees it: listing runs, run views with their seals, snapshot discovery."""
