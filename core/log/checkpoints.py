"""``govern verify --log --checkpoint``: the log now is an extension of every checkpoint handed out.

``verify --log`` alone proves each build extends the previous one, but only against files in the
same runs root: whoever can write there can rewrite every build and re-seal it consistently. A
checkpoint kept elsewhere (a signed tree head: origin, size, root) cannot be rewritten with them.
Here each checkpoint given is opened with the verifier keys (C2SP rules: unknown signers are
ignored, a known signer's bad signature rejects it, at least one known signer is needed), its
origin is held to the log's, and the current log's RFC 9162 tree at the checkpoint's size must
have the checkpoint's root (E_LOG_DIVERGED otherwise).

Every build's own stored tree heads — its ``checkpoint`` file and ``outputs.log_tree`` in its
run.json, when it holds them — are held to the same rule, with or without ``--checkpoint``: each
must be the tree of the latest log at its size, so every stored checkpoint is consistent with
every later one.

Where history diverges: a checkpoint gives a root only, not the records it covered. A build
whose stored tree head disagrees with the current log still holds its own log, so the first
record where that log and the current one differ is named exactly. When every build was
re-sealed to match (the stored heads all agree), the runs root keeps no earlier copy to compare
with: the divergence is then bounded by the checkpoints given — the records up to the largest
checkpoint that still matches are proven unchanged, and the divergence lies after them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError, Problem
from govern.format.checkpoint import CHECKPOINT_NAME, Checkpoint, parse_checkpoint
from govern.format.envelope import ENVELOPE_NAME
from govern.format.jsonio import StrictJSONError, loads_strict
from govern.format.merkle import CompactRange, MerkleFormatError, aligned_subtrees
from govern.format.models import ref_label
from govern.format.note import MAX_NOTE_BYTES, open_note, parse_note, verifier_index
from govern.format.note_keys import NoteError, Verifier
from govern.log.delta_log import committed_builds
from govern.log.transparency import log_lines, log_origin, log_tree
from govern.runs.run_store import RunStore, workspace_runs
from govern.runtime import parallel
from govern.runtime.jobs import default_jobs
from govern.store.backend import KeyNotFound
from govern.store.files import read_bytes_capped

#: Where a build keeps its compact range in run.json (``outputs.log_tree``).
LOG_TREE_OUTPUT = "log_tree"


@attrs.frozen
class TreeHeadCheck:
    """One tree head held to the current log: a checkpoint given, or one a build stored."""

    #: The checkpoint file given, or ``<build run id>/checkpoint`` / ``<build run id>/run.json``.
    source: str
    origin: str | None
    size: int | None
    root: bytes | None
    #: The names of the known keys whose signatures verified (empty: unsigned or not opened).
    signed_by: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the tree head is valid and the current log extends it."""
        return not self.problems


@attrs.frozen
class CheckpointVerification:
    """What ``verify --log`` found of tree heads: the checkpoints given and the builds' own."""

    #: How many records the latest build's log holds (the current tree's size); None when no
    #: tree head was there to check, so the log was not read for them.
    records: int | None
    given: tuple[TreeHeadCheck, ...]
    stored: tuple[TreeHeadCheck, ...]

    @property
    def ok(self) -> bool:
        """True when every tree head, given or stored, is one the current log extends."""
        return all(head.ok for head in (*self.given, *self.stored))


def read_checkpoint_files(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    """The bytes of each checkpoint file (E_IO naming one that cannot be read); a file over a
    note's size limit is read just past it, for the note parser to refuse by name."""
    return [(str(path), read_bytes_capped(path, MAX_NOTE_BYTES + 1)) for path in paths]


def verify_checkpoints(
    workspace: Workspace, given: Sequence[tuple[str, bytes]], verifiers: Sequence[Verifier], builds: Sequence[str] | None = None
) -> CheckpointVerification:
    """Hold every checkpoint ``given`` (name, note bytes) and every build's stored tree head to
    the current delta log (see the module's docstring). ``builds``: the committed builds, oldest
    first, as ``verify --log`` just read them (the runs root is not listed again, and a build
    committed meanwhile is not looked at); listed here when not given."""
    runs = workspace_runs(workspace)
    artifact = workspace.config.workspace.delta_log_artifact
    builds = list(committed_builds(runs) if builds is None else builds)
    origin = _origin(workspace, runs, builds)
    opened = [_open_given(name, data, verifiers, origin) for name, data in given]
    stored = [head for run_id in builds for head in _stored_heads(runs, run_id, verifiers, origin)]
    if not any(head.size is not None for head in (*opened, *stored)):
        return CheckpointVerification(None, tuple(opened), tuple(stored))  # nothing to hold the log to
    log = _Log(runs, artifact, builds)
    roots = log.roots_at(head.size for head in (*opened, *stored) if head.size is not None)
    stored = [_held_to_log(head, log, roots, stored, opened) for head in stored]
    opened = [_held_to_log(head, log, roots, stored, opened) for head in opened]
    return CheckpointVerification(len(log.lines), tuple(opened), tuple(stored))


def _origin(workspace: Workspace, runs: RunStore, builds: Sequence[str]) -> str:
    """The log's origin (:func:`govern.log.transparency.log_origin`), inherited from the latest
    build's checkpoint; a damaged one is reported as that build's stored tree head's problem,
    and the configured or default origin stands in."""
    latest = None
    if builds:
        try:
            latest = runs.read_file(builds[-1], CHECKPOINT_NAME)
        except (OSError, KeyNotFound):
            latest = None
    try:
        return log_origin(workspace, latest)
    except GovernError:
        return log_origin(workspace)


class _Log:
    """The latest build's log as leaves, and the builds' own logs read on demand."""

    def __init__(self, runs: RunStore, artifact: str, builds: list[str]) -> None:
        self.runs = runs
        self.artifact = artifact
        self.lines = self.lines_of(builds[-1]) if builds else []
        self.size = len(self.lines)

    def lines_of(self, run_id: str) -> list[bytes]:
        """A build's records: its log's complete lines without their newlines (a torn tail,
        which ``verify --log`` reports, is no record)."""
        try:
            data = self.runs.read_file(run_id, self.artifact)
        except (OSError, KeyNotFound):
            return []
        return log_lines(data[: data.rfind(b"\n") + 1])

    def roots_at(self, sizes: Iterable[int]) -> dict[int, bytes]:
        """The current tree's root at each of ``sizes`` that the log reaches, in one pass over
        its leaves: the perfect subtrees between consecutive sizes (:func:`aligned_subtrees`)
        are hashed by two processes when the log is long, and merged here in order."""
        wanted = sorted(size for size in set(sizes) if size <= self.size)
        subtrees: list[tuple[int, int]] = []
        reached = 0
        for size in wanted:
            subtrees.extend(aligned_subtrees(reached, size))
            reached = size
        parts = _shares(subtrees, reached)
        nodes = [node for part in parallel.parallel_map(self._subtree_roots, parts) for node in part]
        pieces = iter(zip(nodes, (level for part in parts for _, level in part), strict=True))
        tree = CompactRange.empty()
        roots: dict[int, bytes] = {}
        for size in wanted:
            while tree.size < size:  # the shares never cross a wanted size: they cut the subtrees between sizes
                tree = tree.with_subtrees([next(pieces)])
            roots[size] = tree.root()
        return roots

    def _subtree_roots(self, subtrees: list[tuple[int, int]]) -> list[bytes]:
        """The root of each perfect subtree ``(first leaf, level)`` of the current log."""
        return [log_tree(self.lines[first : first + (1 << level)]).root() for first, level in subtrees]

    def record_name(self, index: int) -> str:
        """``record N (registry @ run)`` for the current log's record ``index`` (0-based)."""
        try:
            record: Any = json.loads(self.lines[index])
            return f"record {index} ({record.get('registry_id')} @ {ref_label(record.get('to_ref'))})"
        except (ValueError, AttributeError):
            return f"record {index}"


#: The leaves from which a log's tree is hashed by two processes (below, one is quicker than a fork).
PARALLEL_MIN_LEAVES = 20_000


def _shares(subtrees: list[tuple[int, int]], leaves: int) -> list[list[tuple[int, int]]]:
    """``subtrees`` in consecutive shares of about equal leaves, one per process: two for a long
    log (a subtree larger than a sixteenth of the leaves is halved first, so the shares can be
    even), else one."""
    if not parallel.CAN_FORK or default_jobs() < 2 or leaves < PARALLEL_MIN_LEAVES:
        return [subtrees]
    pieces: list[tuple[int, int]] = []
    for first, level in subtrees:
        stack = [(first, level)]
        while stack:
            start, size_level = stack.pop()
            if size_level and (1 << size_level) > leaves // 16:
                half = 1 << (size_level - 1)
                stack += [(start + half, size_level - 1), (start, size_level - 1)]
            else:
                pieces.append((start, size_level))
    covered, cut = 0, len(pieces)
    for index, (_, level) in enumerate(pieces):
        if covered >= leaves // 2:
            cut = index
            break
        covered += 1 << level
    return [pieces[:cut], pieces[cut:]] if 0 < cut < len(pieces) else [pieces]


def _open_given(name: str, data: bytes, verifiers: Sequence[Verifier], origin: str) -> TreeHeadCheck:
    """A checkpoint file opened with the verifier keys: signed by at least one known key, no
    known key's signature bad, a checkpoint naming the log's origin."""
    try:
        note = open_note(data, verifiers)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as exc:
        return TreeHeadCheck(name, None, None, None, problems=(Problem("E_CHECKPOINT_INVALID", name, str(exc)),))
    signed_by = tuple(sorted({signature.name for signature in note.verified}))
    return _with_origin(name, checkpoint, signed_by, origin)


def _with_origin(source: str, checkpoint: Checkpoint, signed_by: tuple[str, ...], origin: str) -> TreeHeadCheck:
    """The tree head of ``checkpoint``, refused when it names another log's origin."""
    problems: tuple[Problem, ...] = ()
    if checkpoint.origin != origin:
        problems = (Problem("E_CHECKPOINT_INVALID", source, f"origin {checkpoint.origin!r} is not this log's origin {origin!r}"),)
    return TreeHeadCheck(source, checkpoint.origin, checkpoint.size, checkpoint.root_hash, signed_by, problems)


def _stored_heads(runs: RunStore, run_id: str, verifiers: Sequence[Verifier], origin: str) -> list[TreeHeadCheck]:
    """A build's stored tree heads: its ``checkpoint`` (signed or bare) and its run.json's
    ``outputs.log_tree``, each when present."""
    heads: list[TreeHeadCheck] = []
    try:
        data = runs.read_file(run_id, CHECKPOINT_NAME)
    except (OSError, KeyNotFound):
        data = None
    if data is not None:
        heads.append(_open_stored(f"{run_id}/{CHECKPOINT_NAME}", data, verifiers, origin))
    where = f"{run_id}/{ENVELOPE_NAME}"
    try:
        outputs = loads_strict(runs.read_file(run_id, ENVELOPE_NAME)).get("outputs") or {}
        stored_tree = outputs.get(LOG_TREE_OUTPUT) if isinstance(outputs, dict) else None
    except (OSError, KeyNotFound, StrictJSONError, AttributeError):
        stored_tree = None  # verify --log's chain check reports an unreadable run.json
    if stored_tree is not None:
        try:
            tree = CompactRange.from_json(stored_tree)
        except MerkleFormatError as exc:
            heads.append(TreeHeadCheck(where, None, None, None, problems=(Problem("E_LOG_TAMPERED", where, f"outputs.{LOG_TREE_OUTPUT}: {exc}"),)))
        else:
            heads.append(TreeHeadCheck(where, None, tree.size, tree.root()))
    return heads


def _open_stored(source: str, data: bytes, verifiers: Sequence[Verifier], origin: str) -> TreeHeadCheck:
    """A build's own checkpoint: a signed note (a known key's bad signature rejects it;
    unknown signers are ignored, since a build signed with a key not given is no forgery), or
    the bare checkpoint text of a build made without a signing key."""
    try:
        try:
            parsed = parse_note(data)
        except NoteError:
            return _with_origin(source, parse_checkpoint(data), (), origin)  # unsigned: the text alone
        known = verifier_index(verifiers)
        if any((s.name, s.key_id) in known for s in parsed.signatures):
            note = open_note(data, verifiers)
            signed_by = tuple(sorted({s.name for s in note.verified}))
        else:
            signed_by = ()
        return _with_origin(source, parse_checkpoint(parsed.text), signed_by, origin)
    except NoteError as exc:
        return TreeHeadCheck(source, None, None, None, problems=(Problem("E_CHECKPOINT_INVALID", source, str(exc)),))


def _held_to_log(
    head: TreeHeadCheck, log: _Log, roots: dict[int, bytes], stored: list[TreeHeadCheck], given: list[TreeHeadCheck]
) -> TreeHeadCheck:
    """``head`` with E_LOG_DIVERGED when the current log is not an extension of it."""
    if head.size is None or head.root is None or head.problems:
        return head
    if head.size > log.size:
        message = f"the log holds {log.size} records, the checkpoint {head.size}: history was truncated (the divergence is at record {log.size}, the first missing)"
    elif roots[head.size] != head.root:
        message = f"the log's tree at size {head.size} has another root than the checkpoint's: {_where_diverged(head, log, roots, stored, given)}"
    else:
        return head
    return attrs.evolve(head, problems=(Problem("E_LOG_DIVERGED", head.source, message),))


def _agrees(head: TreeHeadCheck, roots: dict[int, bytes]) -> bool:
    return head.size is not None and not head.problems and roots.get(head.size) == head.root


def _where_diverged(head: TreeHeadCheck, log: _Log, roots: dict[int, bytes], stored: list[TreeHeadCheck], given: list[TreeHeadCheck]) -> str:
    """The first record where history diverges before ``head.size``, or the narrowest range known.

    A build whose stored tree head disagrees with the current log still holds the log it had:
    the first line where that log and the current one differ is the answer (builds tried
    oldest first). When every build was re-sealed to match, only tree heads a trusted key
    signed (the checkpoints given, and builds' checkpoints a given key verified) still speak
    of the old history: the largest that the log extends proves the records before it
    unchanged, the smallest that it does not bounds the change from above.
    """
    size = head.size or 0
    for other in stored:
        if other.size is None or other.size > log.size or _agrees(other, roots):
            continue
        run_id = other.source.split("/", 1)[0]
        earlier = log.lines_of(run_id)
        first = next((i for i, (a, b) in enumerate(zip(earlier, log.lines)) if a != b), None)
        if first is not None and first < size:
            return f"history diverges at {log.record_name(first)}: build {run_id} holds another record there"
    trusted = [other for other in (*given, *(s for s in stored if s.signed_by)) if other.size is not None and not other.problems]
    below = [other for other in trusted if (other.size or 0) < size and _agrees(other, roots)]
    lower = max(below, key=lambda other: other.size or 0, default=None)
    start = lower.size or 0 if lower is not None else 0
    above = [other for other in trusted if start < (other.size or 0) <= size and not _agrees(other, roots)]
    upper = min((other.size or 0 for other in above), default=size)
    since = f"records 0..{start - 1} still match {lower.source}; " if lower is not None and start else ""
    if upper - start == 1:
        return f"{since}history diverges at {log.record_name(start)}"
    return (
        f"{since}history diverges among records {start}..{upper - 1} "
        "(every build was re-sealed to match: the runs root keeps no earlier copy to name the record)"
    )
