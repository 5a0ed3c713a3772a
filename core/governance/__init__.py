"""The governance books: documents derived from, and checked against, what govern knows.

Four documents live in a workspace's ``governance/`` directory — the allowed-operations
catalog, the enforcement coverage matrix, the completeness scorecard and the registry
catalog — plus addenda to a frozen registry catalog under ``governance/addenda/``
(docs/governance.md, "The documents"). Each is canonical JSON with a ``version`` (MAJOR.MINOR) and a ``changelog``.
The scorecard is derived only: no command takes a figure from the user, and
:func:`govern.governance.check.check_books` recomputes every figure.

Modules, bottom to top: :mod:`.versioning` (versions, changelog entries), :mod:`.documents`
(the models and their JSON), :mod:`.schema` (JSON-Schema validation on read),
:mod:`.figures` (figures, percents, deltas), :mod:`.transaction` (the all-or-nothing write of
several files), :mod:`.store` (reading and writing the books under the workspace lock),
:mod:`.revision` (next versions), :mod:`.scorecard` (the one derivation of every figure),
:mod:`.defaults` (the starter documents of ``govern init``), then one module per command
(:mod:`.operations`, :mod:`.registries`, :mod:`.sync`, :mod:`.check`) and the reports
(:mod:`.evidence`, :mod:`.schema_summary`, :mod:`.markdown`, :mod:`.reports`). Nothing here
parses arguments or prints: the CLI is in the ``governance`` plugin.
"""
