"""The books on disk: reading every document (validated), and writing changes all-or-nothing.

:func:`open_books` is how a command gets at the books: it takes the workspace lock (the one
``govern delta build`` takes), finishes or undoes a transaction a crash left behind, and
reads. :func:`write_documents` refuses to touch a frozen document and writes the rest through
:func:`govern.governance.transaction.commit_files`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from govern.config.workspace import Workspace
from govern.errors import GovernError, Problem
from govern.format.jsonio import dump_canonical
from govern.format.models import CatalogEntry
from govern.governance.documents import (
    ADDENDA_DIR,
    ADDENDUM_FILE_PATTERN,
    CATALOG_FILE,
    MATRIX_FILE,
    REGISTRY_CATALOG_FILE,
    SCORECARD_FILE,
    CatalogAddendum,
    CoverageMatrix,
    Document,
    OperationsCatalog,
    RegistryCatalog,
    Scorecard,
    addendum_file_name,
)
from govern.governance.schema import validate_document
from govern.governance.transaction import commit_files, recover
from govern.runs.listing import LOCK_NAME
from govern.store.files import load_json_file
from govern.store.locking import DEFAULT_LOCK_TIMEOUT, exclusive_lock

#: Largest governance document read.
MAX_DOCUMENT_BYTES = 64 << 20


@attrs.frozen
class Books:
    """Every governance document of a workspace, as read (addenda sorted by file name)."""

    catalog: OperationsCatalog
    matrix: CoverageMatrix
    scorecard: Scorecard
    registry_catalog: RegistryCatalog
    addenda: tuple[CatalogAddendum, ...] = ()

    def documents(self) -> list[Document]:
        """All documents, in file-path order."""
        return sorted([self.catalog, self.matrix, self.scorecard, self.registry_catalog, *self.addenda], key=lambda d: d.relpath)

    def all_registries(self) -> list[CatalogEntry]:
        """Registries of the catalog and every addendum."""
        return [*self.registry_catalog.registries, *(e for a in self.addenda for e in a.registries)]

    def addendum(self, label: str) -> CatalogAddendum | None:
        """The addendum of that label, if any."""
        return next((a for a in self.addenda if a.label == label), None)

    def replace(self, document: Document) -> Books:
        """These books with one document replaced (or an addendum added)."""
        if isinstance(document, OperationsCatalog):
            return attrs.evolve(self, catalog=document)
        if isinstance(document, CoverageMatrix):
            return attrs.evolve(self, matrix=document)
        if isinstance(document, Scorecard):
            return attrs.evolve(self, scorecard=document)
        if isinstance(document, RegistryCatalog):
            return attrs.evolve(self, registry_catalog=document)
        others = tuple(a for a in self.addenda if a.label != document.label)
        return attrs.evolve(self, addenda=tuple(sorted((*others, document), key=lambda a: a.relpath)))


def read_document(path: Path, kind: type[Any], *, self_consistent: bool = True) -> Any:
    """Read, strictly parse and schema-validate one document of class ``kind``.

    E_GOVERNANCE_MISSING when the file is absent; E_GOVERNANCE_INVALID (exit 2, every
    problem listed) when it is not a valid document of that kind — or, with
    ``self_consistent``, when a scorecard's stored percent or deltas do not follow from its
    own figures (``governance check`` reads without that, to report each finding itself).
    """
    if not path.exists():
        raise GovernError(
            "E_GOVERNANCE_MISSING",
            f"{path}: no such governance document ('govern init' writes a starting set)",
        )
    if path.is_dir():
        raise GovernError("E_GOVERNANCE_INVALID", f"{path}: is a directory, not a governance document")
    try:
        data = load_json_file(path, max_bytes=MAX_DOCUMENT_BYTES)
    except GovernError as error:
        if error.code != "E_JSON_INVALID":
            raise
        raise GovernError("E_GOVERNANCE_INVALID", error.message) from None
    validate_document(data, str(path), kind.NAME)
    if kind is Scorecard and self_consistent:
        problems = Scorecard.json_problems(data)
        if problems:
            raise GovernError(
                "E_GOVERNANCE_INVALID",
                f"{path}: {problems[0]}",
                problems=tuple(Problem("E_GOVERNANCE_INVALID", str(path), p) for p in problems),
            )
    document = kind.from_json(data)
    if isinstance(document, CatalogAddendum) and path.name != addendum_file_name(document.extends_version, document.label):
        raise GovernError(
            "E_GOVERNANCE_INVALID",
            f"{path}: label {document.label!r} and catalog version {document.extends_version} call for the file name "
            f"{addendum_file_name(document.extends_version, document.label)}",
        )
    return document


def addendum_paths(governance_dir: Path) -> list[Path]:
    """Addendum files in ``governance/addenda/``, sorted by name."""
    directory = governance_dir / ADDENDA_DIR
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if ADDENDUM_FILE_PATTERN.fullmatch(p.name))


def load_books(governance_dir: Path) -> Books:
    """Read and validate every document; the first failure raises (see :func:`read_document`)."""
    return Books(
        catalog=read_document(governance_dir / CATALOG_FILE, OperationsCatalog),
        matrix=read_document(governance_dir / MATRIX_FILE, CoverageMatrix),
        scorecard=read_document(governance_dir / SCORECARD_FILE, Scorecard),
        registry_catalog=read_document(governance_dir / REGISTRY_CATALOG_FILE, RegistryCatalog),
        addenda=tuple(read_document(path, CatalogAddendum) for path in addendum_paths(governance_dir)),
    )


def workspace_lock_path(workspace: Workspace) -> Path:
    """The lock file of the workspace's local files (the books, registry_config.toml): the
    runs root's lock, which ``delta build`` takes too, for a local runs root; for a runs root
    on object storage, which has no lock file, one in the workspace folder — the books and the
    config are local files, so only local writers of them need keeping apart."""
    if workspace.runs_root_is_local:
        return workspace.runs_root / LOCK_NAME
    return workspace.root / LOCK_NAME


@contextlib.contextmanager
def open_books(workspace: Workspace, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[list[str]]:
    """Hold the workspace lock (:func:`workspace_lock_path`) for the block, after recovering
    an interrupted change.

    Yields the list of recovery notes (empty normally) for the command to show as warnings.
    """
    with exclusive_lock(workspace_lock_path(workspace), lock_timeout):
        notes = []
        if workspace.governance_dir.is_dir():
            note = recover(workspace.governance_dir)
            if note:
                notes.append(note)
        yield notes


def write_documents(governance_dir: Path, documents: list[Document]) -> list[str]:
    """Write new versions of ``documents`` all-or-nothing; the paths written.

    Refuses (E_GOVERNANCE_FROZEN, exit 2, nothing written) when any of them is frozen on disk.
    Call inside :func:`open_books`.
    """
    changes: dict[str, bytes] = {}
    for document in documents:
        path = governance_dir / document.relpath
        if path.is_file():
            current = read_document(path, type(document))
            if current.frozen:
                raise GovernError(
                    "E_GOVERNANCE_FROZEN",
                    f"{path}: {current.NAME} v{current.version} is frozen and is never modified; nothing was written",
                )
        changes[document.relpath] = dump_canonical(document.to_json())
    return commit_files(governance_dir, changes)
