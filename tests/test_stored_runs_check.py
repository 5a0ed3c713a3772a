"""``RunStore.check_stored_runs`` (verify --all on object storage, pipelined over runs) gives
each run exactly what ``check_stored_run`` gives it alone, in run order."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from govern.runs.run_store import RUNS_AHEAD, RunStore
from govern.store.memory import MemoryStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks` is a folder of the repository
from benchmarks.generate import manifest_bytes, run_id  # noqa: E402


def _put_run(store: MemoryStore, run: str, files: dict[str, bytes], *, sealed: bool = True) -> None:
    entries = [(path, hashlib.sha256(data).hexdigest(), len(data)) for path, data in sorted(files.items())]
    manifest = manifest_bytes(run, entries)
    for path, data in files.items():
        store.put(f"{run}/{path}", data)
    store.put(f"{run}/manifest.json", manifest)
    if sealed:
        store.put(f"{run}/MANIFEST.sha256", f"{hashlib.sha256(manifest).hexdigest()}  manifest.json\n".encode())


#: What can become of one run: intact, unsealed, an object overwritten, deleted or truncated.
FATES = st.sampled_from(["ok", "unsealed", "tampered", "missing", "truncated"])


@settings(max_examples=25, deadline=None)
@given(fates=st.lists(FATES, min_size=1, max_size=3 * RUNS_AHEAD), objects=st.integers(min_value=0, max_value=5))
def test_pipelined_checks_equal_one_run_at_a_time(fates, objects):
    store = MemoryStore()
    runs = RunStore(store)
    ids = []
    for i, fate in enumerate(fates):
        run = run_id(0, i, "snapshot")
        files = {f"data/f{j}.bin": f"{run} {j}\n".encode() for j in range(objects)} | {"data/last.bin": b"last\n"}
        _put_run(store, run, files, sealed=fate != "unsealed")
        if fate == "tampered":
            store.put(f"{run}/data/last.bin", b"LAST\n")
        elif fate == "missing":
            store.delete(f"{run}/data/last.bin")
        elif fate == "truncated":
            store.put(f"{run}/data/last.bin", b"la")
        ids.append(run)
    checked = list(runs.check_stored_runs(ids))
    assert [run for run, _check in checked] == ids
    for (run, check), fate in zip(checked, fates, strict=True):
        if fate == "unsealed":
            assert check is None
            continue
        assert check == runs.check_stored_run(run)
        codes = [problem.code for problem in check.problems]
        expected = {"ok": [], "tampered": ["E_DIGEST_MISMATCH"], "missing": ["E_FILE_MISSING"], "truncated": ["E_SIZE_MISMATCH"]}
        assert codes == expected[fate], (fate, check.problems)
