"""JSON-Schema validation of the governance documents on read.

The schemas are package data (``govern.schemas``): one per document plus
``GOVERNANCE_common_v0_1.schema.json``, whose definitions the others reference by relative
``$ref``. References resolve only within that set (a :class:`referencing.Registry` built from
the package files), so nothing is ever fetched.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

from govern.errors import GovernError, Problem
from govern.format.jsonio import loads_strict

SCHEMA_PACKAGE = "govern.schemas"
COMMON_SCHEMA = "GOVERNANCE_common_v0_1.schema.json"
#: Document name → its schema file.
DOCUMENT_SCHEMAS = {
    "ALLOWED_OPERATIONS_CATALOG": "GOVERNANCE_allowed_operations_catalog_v0_1.schema.json",
    "ENFORCEMENT_COVERAGE_MATRIX": "GOVERNANCE_enforcement_coverage_matrix_v0_1.schema.json",
    "GOVERNANCE_COMPLETENESS_SCORECARD": "GOVERNANCE_completeness_scorecard_v0_1.schema.json",
    "REGISTRY_CATALOG": "GOVERNANCE_registry_catalog_v0_1.schema.json",
    "REGISTRY_CATALOG_ADDENDUM": "GOVERNANCE_registry_catalog_addendum_v0_1.schema.json",
}


def schema_text(name: str) -> bytes:
    """The bytes of a built-in schema file."""
    return importlib.resources.files(SCHEMA_PACKAGE).joinpath(name).read_bytes()


@functools.cache
def _validators() -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {name: loads_strict(schema_text(name)) for name in (COMMON_SCHEMA, *DOCUMENT_SCHEMAS.values())}
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return {
        document: Draft202012Validator(schemas[file_name], registry=registry)
        for document, file_name in DOCUMENT_SCHEMAS.items()
    }


def schema_problems(document: str, data: Any, where: str) -> list[Problem]:
    """Every way ``data`` fails the schema of ``document`` (E_GOVERNANCE_INVALID), by JSON path."""
    validator = _validators()[document]
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [Problem("E_GOVERNANCE_INVALID", f"{where}: {error.json_path}", error.message) for error in errors]


def validate_document(data: Any, where: str, expected: str | None = None) -> str:
    """Check ``data`` is a governance document (of kind ``expected`` if given); its name.

    Raises E_GOVERNANCE_INVALID (exit 2) carrying every schema problem.
    """
    name = data.get("document") if isinstance(data, dict) else None
    if name not in DOCUMENT_SCHEMAS or (expected is not None and name != expected):
        wanted = expected or " or ".join(sorted(DOCUMENT_SCHEMAS))
        raise GovernError("E_GOVERNANCE_INVALID", f"{where}: 'document' is {name!r}, expected {wanted}")
    problems = schema_problems(name, data, where)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GovernError(
            "E_GOVERNANCE_INVALID",
            f"{first.where}: {first.message}{more}",
            problems=tuple(problems),
        )
    return name
