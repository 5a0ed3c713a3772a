"""The plugin host: hook specifications, markers, and the manager that dispatches by kind."""
