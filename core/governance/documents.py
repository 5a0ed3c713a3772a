"""The governance documents as frozen value objects, and their JSON (docs/governance.md, "The documents").

Every document has a ``document`` name, a ``version`` (MAJOR.MINOR), a ``frozen`` flag (a
frozen document is never modified again, by any command) and a ``changelog``. Its
:meth:`summary` is what its changelog records before → after. JSON read here has already
passed the document's JSON Schema (:mod:`govern.governance.schema`), so ``from_json`` only
converts.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, ClassVar

import attrs

from govern.format.models import CatalogEntry
from govern.governance.figures import Figures, figure_deltas
from govern.governance.versioning import ChangelogEntry

#: File names inside the governance directory.
CATALOG_FILE = "ALLOWED_OPERATIONS_CATALOG.json"
MATRIX_FILE = "ENFORCEMENT_COVERAGE_MATRIX.json"
SCORECARD_FILE = "GOVERNANCE_COMPLETENESS_SCORECARD.json"
REGISTRY_CATALOG_FILE = "REGISTRY_CATALOG.json"
ADDENDA_DIR = "addenda"
#: ``REGISTRY_CATALOG_ADDENDUM_v<catalog version>__<label>.json``.
ADDENDUM_FILE_PATTERN = re.compile(r"^REGISTRY_CATALOG_ADDENDUM_v(\d+)_(\d+)__([a-z0-9_]+)\.json$")
LABEL_PATTERN = re.compile(r"^[a-z0-9_]+$")
OP_ID_PATTERN = re.compile(r"^OP-[A-Z]+[0-9]{2,}$")

# --------------------------------------------------------------------------------------------
# Allowed-operations catalog
# --------------------------------------------------------------------------------------------


@attrs.frozen
class CatalogOperation:
    """An allowed operation: its id, title and the executables that implement it."""

    op_id: str
    title: str
    executables: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"op_id": self.op_id, "title": self.title, "executables": list(self.executables)}


def _changelog_json(changelog: tuple[ChangelogEntry, ...]) -> list[dict[str, Any]]:
    return [entry.to_json() for entry in changelog]


def _changelog(data: dict[str, Any]) -> tuple[ChangelogEntry, ...]:
    return tuple(ChangelogEntry.from_json(entry) for entry in data["changelog"])


def _document_json(document: Any, body: dict[str, Any]) -> dict[str, Any]:
    """A document's JSON: the keys every governance document has (name, version, frozen,
    changelog) and its own ``body``."""
    return {
        "document": document.NAME,
        "version": document.version,
        "frozen": document.frozen,
        **body,
        "changelog": _changelog_json(document.changelog),
    }


def _document_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The fields every governance document has, from its schema-valid JSON."""
    return {"version": data["version"], "changelog": _changelog(data), "frozen": data["frozen"]}


def distinct_executables(operations: tuple[CatalogOperation, ...]) -> int:
    """How many different executables the operations name, in all."""
    return len({executable for op in operations for executable in op.executables})


@attrs.frozen
class OperationsCatalog:
    """``ALLOWED_OPERATIONS_CATALOG.json``: the operations allowed to run, sorted by op id."""

    NAME: ClassVar[str] = "ALLOWED_OPERATIONS_CATALOG"

    version: str
    changelog: tuple[ChangelogEntry, ...]
    operations: tuple[CatalogOperation, ...]
    frozen: bool = False

    @property
    def relpath(self) -> str:
        """Path inside the governance directory."""
        return CATALOG_FILE

    def op_ids(self) -> list[str]:
        """Every op id, in order."""
        return [op.op_id for op in self.operations]

    def get(self, op_id: str) -> CatalogOperation | None:
        """The operation with that id, if catalogued."""
        return next((op for op in self.operations if op.op_id == op_id), None)

    def summary(self) -> dict[str, Any]:
        """What the changelog records before → after."""
        return {"operations": len(self.operations), "executables": distinct_executables(self.operations)}

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return _document_json(self, {"operations": [op.to_json() for op in self.operations]})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OperationsCatalog:
        """Rebuild from schema-valid JSON."""
        return cls(
            **_document_fields(data),
            operations=tuple(CatalogOperation(o["op_id"], o["title"], tuple(o["executables"])) for o in data["operations"]),
        )


# --------------------------------------------------------------------------------------------
# Enforcement coverage matrix
# --------------------------------------------------------------------------------------------


@attrs.frozen
class EnforcementPoint:
    """A place where a rule is enforced (E1…): an id, a short name, what it guarantees."""

    id: str
    name: str
    description: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "name": self.name, "description": self.description}


@attrs.frozen
class CoverageLevel:
    """A coverage level (C0…). ``requires``: enforcement points this level adds to the
    requirements of every lower level (requirements are cumulative)."""

    id: str
    name: str
    description: str
    requires: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "name": self.name, "description": self.description, "requires": list(self.requires)}


@attrs.frozen
class MatrixRow:
    """An operation's coverage: its level and the enforcement points it has."""

    op_id: str
    coverage: str
    enforcement: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"op_id": self.op_id, "coverage": self.coverage, "enforcement": list(self.enforcement)}


@attrs.frozen
class CoverageMatrix:
    """``ENFORCEMENT_COVERAGE_MATRIX.json``: enforcement points, ordered coverage levels
    (lowest first) and one row per operation, sorted by op id."""

    NAME: ClassVar[str] = "ENFORCEMENT_COVERAGE_MATRIX"

    version: str
    changelog: tuple[ChangelogEntry, ...]
    enforcement_points: tuple[EnforcementPoint, ...]
    coverage_levels: tuple[CoverageLevel, ...]
    rows: tuple[MatrixRow, ...]
    frozen: bool = False

    @property
    def relpath(self) -> str:
        """Path inside the governance directory."""
        return MATRIX_FILE

    def point_ids(self) -> list[str]:
        """Enforcement point ids, in the matrix's order."""
        return [point.id for point in self.enforcement_points]

    def level_ids(self) -> list[str]:
        """Coverage level ids, lowest first."""
        return [level.id for level in self.coverage_levels]

    def rank(self, level_id: str) -> int:
        """Position of a level, lowest 0; ValueError for an unknown level."""
        return self.level_ids().index(level_id)

    def required_points(self, level_id: str) -> tuple[str, ...]:
        """Every enforcement point a level requires: its own and those of all lower levels."""
        required: list[str] = []
        for level in self.coverage_levels[: self.rank(level_id) + 1]:
            required.extend(point for point in level.requires if point not in required)
        order = self.point_ids()
        return tuple(sorted(required, key=lambda p: order.index(p) if p in order else len(order)))

    def sort_points(self, points: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """Points in the matrix's order, each once (unknown ones last, sorted)."""
        order = self.point_ids()
        return tuple(sorted(set(points), key=lambda p: (order.index(p) if p in order else len(order), p)))

    def row(self, op_id: str) -> MatrixRow | None:
        """The row of an operation, if any."""
        return next((row for row in self.rows if row.op_id == op_id), None)

    def summary(self) -> dict[str, Any]:
        """What the changelog records before → after: rows, and rows per level."""
        counts = Counter(row.coverage for row in self.rows)
        return {"rows": len(self.rows), "levels": {level: counts.get(level, 0) for level in self.level_ids()}}

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return _document_json(
            self,
            {
                "enforcement_points": [point.to_json() for point in self.enforcement_points],
                "coverage_levels": [level.to_json() for level in self.coverage_levels],
                "rows": [row.to_json() for row in self.rows],
            },
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoverageMatrix:
        """Rebuild from schema-valid JSON."""
        return cls(
            **_document_fields(data),
            enforcement_points=tuple(EnforcementPoint(p["id"], p["name"], p["description"]) for p in data["enforcement_points"]),
            coverage_levels=tuple(
                CoverageLevel(c["id"], c["name"], c["description"], tuple(c["requires"])) for c in data["coverage_levels"]
            ),
            rows=tuple(MatrixRow(r["op_id"], r["coverage"], tuple(r["enforcement"])) for r in data["rows"]),
        )


# --------------------------------------------------------------------------------------------
# Completeness scorecard
# --------------------------------------------------------------------------------------------


@attrs.frozen
class Scorecard:
    """``GOVERNANCE_COMPLETENESS_SCORECARD.json``: derived figures only, with the previous
    version's figures and the deltas between the two."""

    NAME: ClassVar[str] = "GOVERNANCE_COMPLETENESS_SCORECARD"

    version: str
    changelog: tuple[ChangelogEntry, ...]
    figures: Figures
    previous_version: str | None = None
    previous: Figures | None = None
    frozen: bool = False

    @property
    def relpath(self) -> str:
        """Path inside the governance directory."""
        return SCORECARD_FILE

    def summary(self) -> dict[str, Any]:
        """What the changelog records before → after: the figures."""
        return self.figures.to_json()

    def to_json(self) -> dict[str, Any]:
        """JSON form; the deltas are written for readers and checked on read."""
        return _document_json(
            self,
            {
                "figures": self.figures.to_json(),
                "previous": None
                if self.previous is None
                else {"version": self.previous_version, "figures": self.previous.to_json()},
                "deltas": None if self.previous is None else figure_deltas(self.previous, self.figures),
            },
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorecard:
        """Rebuild from schema-valid JSON (stored deltas are re-derived, see ``json_problems``)."""
        previous = data["previous"]
        return cls(
            **_document_fields(data),
            figures=Figures.from_json(data["figures"]),
            previous_version=None if previous is None else previous["version"],
            previous=None if previous is None else Figures.from_json(previous["figures"]),
        )

    @classmethod
    def json_problems(cls, data: dict[str, Any]) -> list[str]:
        """Values in the JSON that do not follow from the rest of it (hand edits)."""
        problems = [f"figures: {p}" for p in Figures.json_problems(data["figures"])]
        previous = data["previous"]
        if previous is not None:
            problems.extend(f"previous.figures: {p}" for p in Figures.json_problems(previous["figures"]))
        rebuilt = cls.from_json(data).to_json()["deltas"]
        if data["deltas"] != rebuilt:
            problems.append(f"deltas are {data['deltas']} but the figures give {rebuilt}")
        return problems


# --------------------------------------------------------------------------------------------
# Registry catalog and its addenda
# --------------------------------------------------------------------------------------------


def entry_to_json(entry: CatalogEntry) -> dict[str, Any]:
    """A registry catalog entry as JSON."""
    return {
        "registry_id": entry.registry_id,
        "kind": entry.kind,
        "sealed": entry.sealed,
        "artifact": entry.artifact,
        "description": entry.description,
    }


def entry_from_json(data: dict[str, Any]) -> CatalogEntry:
    """A registry catalog entry from schema-valid JSON."""
    return CatalogEntry(data["registry_id"], data["kind"], data["sealed"], data["artifact"], data["description"])


def registries_summary(registries: tuple[CatalogEntry, ...]) -> dict[str, Any]:
    """What a registry list's changelog records before → after."""
    return {"registries": len(registries), "sealed": sum(entry.sealed for entry in registries)}


@attrs.frozen
class RegistryCatalog:
    """``REGISTRY_CATALOG.json``: the catalogued registries, sorted by id. Once frozen, later
    registries go into addenda."""

    NAME: ClassVar[str] = "REGISTRY_CATALOG"

    version: str
    changelog: tuple[ChangelogEntry, ...]
    registries: tuple[CatalogEntry, ...]
    frozen: bool = False

    @property
    def relpath(self) -> str:
        """Path inside the governance directory."""
        return REGISTRY_CATALOG_FILE

    def ids(self) -> list[str]:
        """Registry ids, in order."""
        return [entry.registry_id for entry in self.registries]

    def summary(self) -> dict[str, Any]:
        """What the changelog records before → after."""
        return registries_summary(self.registries)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return _document_json(self, {"registries": [entry_to_json(entry) for entry in self.registries]})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegistryCatalog:
        """Rebuild from schema-valid JSON."""
        return cls(
            **_document_fields(data),
            registries=tuple(entry_from_json(e) for e in data["registries"]),
        )


def addendum_file_name(extends_version: str, label: str) -> str:
    """``REGISTRY_CATALOG_ADDENDUM_v0_1__phase_2_2_3.json`` for catalog 0.1, label phase_2_2_3."""
    return f"REGISTRY_CATALOG_ADDENDUM_v{extends_version.replace('.', '_')}__{label}.json"


@attrs.frozen
class CatalogAddendum:
    """``addenda/REGISTRY_CATALOG_ADDENDUM_v<ver>__<label>.json``: registries added after the
    registry catalog (version ``extends_version``) was frozen, without modifying it."""

    NAME: ClassVar[str] = "REGISTRY_CATALOG_ADDENDUM"

    label: str
    extends_version: str
    version: str
    changelog: tuple[ChangelogEntry, ...]
    registries: tuple[CatalogEntry, ...]
    frozen: bool = False

    @property
    def relpath(self) -> str:
        """Path inside the governance directory."""
        return f"{ADDENDA_DIR}/{addendum_file_name(self.extends_version, self.label)}"

    def ids(self) -> list[str]:
        """Registry ids, in order."""
        return [entry.registry_id for entry in self.registries]

    def summary(self) -> dict[str, Any]:
        """What the changelog records before → after."""
        return registries_summary(self.registries)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return _document_json(
            self,
            {
                "label": self.label,
                "extends": {"document": RegistryCatalog.NAME, "version": self.extends_version},
                "registries": [entry_to_json(entry) for entry in self.registries],
            },
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogAddendum:
        """Rebuild from schema-valid JSON."""
        return cls(
            **_document_fields(data),
            label=data["label"],
            extends_version=data["extends"]["version"],
            registries=tuple(entry_from_json(e) for e in data["registries"]),
        )


#: Any governance document.
Document = OperationsCatalog | CoverageMatrix | Scorecard | RegistryCatalog | CatalogAddendum
