"""The delta log: planning and publishing a build, reading, validating, verifying and repairing the log."""
