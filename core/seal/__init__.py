"""Sealing and deep verification of a local run folder (walk, stamps, O_NOFOLLOW, parallel hashing)."""
