"""Bytes at rest: durable writes, locks, and the storage backends behind one interface."""
