"""govern-jsonl-records: registry kind ``jsonl_records`` for govern.

A ``jsonl_records`` registry is found like a ``sealed`` one (every sealed run holding its
artifact is a snapshot), but its delta-log records also say which *records* of the JSONL
artifact were added, removed or modified, by the value of a configured key field::

    [registries.run_registry]
    kind = "jsonl_records"
    artifact = "RUN_REGISTRY_v0_1.jsonl"
    options = { key = "run_id" }

The hooks are in :mod:`govern_jsonl_records.plugin`, the record diff in
:mod:`govern_jsonl_records.records`.
"""

__version__ = "0.1.0"
