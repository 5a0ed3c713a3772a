"""The "Schema Summary" of a report, generated from the schema file itself.

Fields, types, whether required (including conditional requirements read from
``allOf``/``if``/``then``) and descriptions all come from the JSON Schema, so the summary can
never drift from the schema it describes.
"""

from __future__ import annotations

import json
from typing import Any

from govern.governance.markdown import first_sentence, table

_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def _def_name(ref: str) -> str | None:
    return ref.rsplit("/", 1)[1] if ref.startswith("#/$defs/") else None


def type_text(schema: Any, defs: dict[str, Any]) -> str:
    """A short type for a subschema: ``string (const "0.1")``, ``null | sealed_ref``, ``string[]``…"""
    if not isinstance(schema, dict):
        return "any" if schema is True else "nothing"
    if "$ref" in schema:
        name = _def_name(schema["$ref"])
        target = defs.get(name or "", {})
        if isinstance(target, dict) and target.get("type") == "object":
            return name or schema["$ref"]
        return type_text(target, defs) if name in defs else schema["$ref"]
    if "const" in schema:
        value = schema["const"]
        return f"{_JSON_TYPES.get(type(value), 'value')} (const {json.dumps(value, ensure_ascii=False)})"
    if "enum" in schema:
        return "enum[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]) + "]"
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return " | ".join(type_text(option, defs) for option in schema[keyword])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "array":
        return f"{type_text(schema.get('items', True), defs)}[]"
    if kind == "object":
        properties = list(schema.get("properties", {}))
        return "{" + ", ".join(properties) + "}" if properties else "object"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return kind or "any"


def conditional_requirements(schema: dict[str, Any]) -> dict[str, str]:
    """field → ``when F is V`` for requirements that ``allOf`` items add conditionally."""
    found: dict[str, str] = {}
    for item in schema.get("allOf", []):
        condition = item.get("if", {}).get("properties", {}) if isinstance(item, dict) else {}
        consequence = item.get("then", {}) if isinstance(item, dict) else {}
        clauses = [f"{name} is {json.dumps(sub['const'])}" for name, sub in condition.items() if isinstance(sub, dict) and "const" in sub]
        for field in consequence.get("required", []):
            found[field] = "when " + " and ".join(clauses)
    return found


def schema_summary(schema: dict[str, Any], file_name: str) -> list[str]:
    """Markdown lines: a field table and one line per nested object definition."""
    defs = schema.get("$defs", {})
    required = list(schema.get("required", []))
    properties = schema.get("properties", {})
    order = required + [name for name in properties if name not in required]
    conditional = conditional_requirements(schema)
    rows = []
    for name in order:
        sub = properties.get(name, {})
        if name in required:
            needed = "✅"
        elif name in conditional:
            needed = conditional[name]
        else:
            needed = "—"
        rows.append((name, type_text(sub, defs), needed, first_sentence(sub.get("description") if isinstance(sub, dict) else None)))
    lines = [f"**{file_name}**", "", *table(("Field", "Type", "Required", "Description"), rows)]
    for name, definition in defs.items():
        if isinstance(definition, dict) and definition.get("type") == "object":
            fields = []
            for field, sub in definition.get("properties", {}).items():
                nullable = isinstance(sub, dict) and isinstance(sub.get("type"), list) and "null" in sub["type"]
                fields.append(f"{field} (nullable)" if nullable else field)
            lines.extend(["", f"**{name}** (nested object):", f"- {', '.join(fields)}"])
    return lines
