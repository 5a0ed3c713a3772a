"""One compiled schema with two engines: a fast one decides, jsonschema explains.

``jsonschema_rs`` (Rust) decides whether a record is valid, at hundreds of thousands of records
a second; python ``jsonschema`` runs only on the records it rejects, to report every error with
its JSON path in jsonschema's own words. The two engines must agree, so the explainer borrows
the fast engine's semantics where the two libraries differ by design: ``pattern`` (ECMA-262
regular expressions, where ``$`` is the end of the string, not "before a final newline" as in
Python's ``re``) and ``format`` (jsonschema leaves ``date-time`` unchecked unless an optional
package is installed). Should they still disagree on a record, it fails anyway — explained in
the fast engine's words — so a disagreement can never pass a record.

Both are declared dependencies: there is no fallback to one engine alone.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import jsonschema_rs

from govern.errors import GovernError
from govern.schema.store import ResolvedSchema

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@attrs.frozen
class SchemaViolation:
    """One way an instance breaks its schema: where (a JSON path such as ``$.counts.added``)
    and what (jsonschema's message)."""

    json_path: str
    message: str


def json_path(parts: Iterable[str | int]) -> str:
    """``$.a[0]["b c"]`` from a sequence of keys and indices."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


@functools.lru_cache(maxsize=256)
def _fast_format(name: str):
    return jsonschema_rs.validator_for({"format": name}, validate_formats=True)


@functools.lru_cache(maxsize=1024)
def _fast_pattern(pattern: str):
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


def _format_checker():
    """A jsonschema format checker that checks what the deciding engine checks."""
    import jsonschema
    from jsonschema.exceptions import FormatError

    class FastEngineFormats(jsonschema.FormatChecker):
        """Every format judged by jsonschema_rs; jsonschema's wording for the failure."""

        def check(self, instance: object, format: str) -> None:
            if not _fast_format(format).is_valid(instance):
                raise FormatError(f"{instance!r} is not a {format!r}")

    return FastEngineFormats(formats=())


def _ecma_pattern(validator, pattern, instance, schema):
    """jsonschema's ``pattern`` keyword with the fast engine's (ECMA-262) regular expressions."""
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _fast_pattern(pattern).is_valid(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _properties_with_paths(validator, properties, instance, schema):
    """jsonschema's ``properties`` keyword, except that a ``false`` subschema's error carries
    the property's path (jsonschema's ``descend`` drops it, leaving ``$`` as the path)."""
    from jsonschema import ValidationError

    if not validator.is_type(instance, "object"):
        return
    for name, subschema in properties.items():
        if name not in instance:
            continue
        if subschema is False:
            yield ValidationError(f"False schema does not allow {instance[name]!r}", path=(name,), schema_path=(name,))
        else:
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


def _narrowed(error) -> list:
    """The errors that say what is wrong: for an ``anyOf``/``oneOf`` failure, every error of
    its most relevant branch (jsonschema's ``best_match`` picks the branch), recursively."""
    from jsonschema.exceptions import best_match

    if not error.context:
        return [error]
    best = best_match([error])
    if best is error:
        return [error]
    while best.parent is not error:
        best = best.parent
    branch = best.relative_schema_path[0]
    found = []
    for candidate in error.context:
        if candidate.relative_schema_path[0] == branch:
            found.extend(_narrowed(candidate))
    return found


def _refuse_retrieval(uri: str):
    # Never reached: SchemaStore.resolve refuses remote references before anything compiles.
    raise GovernError("E_SCHEMA_REF", f"remote $ref {uri!r} is never fetched")


def _without_draft_2020_12(contents: Any) -> Any:
    """A referenced schema's contents without a ``$schema`` naming draft 2020-12 (the default
    the explainer resolves with, so nothing changes in meaning).

    jsonschema validates a ``$ref``'d schema with the validator class its ``$schema`` names —
    the stock one, which would drop the explainer's keyword overrides (the fast engine's
    ``pattern``, ``properties`` errors with paths) inside every referenced schema.
    """
    if isinstance(contents, dict) and contents.get("$schema") == "https://json-schema.org/draft/2020-12/schema":
        return {key: value for key, value in contents.items() if key != "$schema"}
    return contents


class SchemaValidator:
    """A resolved schema compiled for the deciding engine (E_SCHEMA_MALFORMED if it is not a
    valid JSON Schema); jsonschema is imported and compiled only once a record needs
    explaining, so validating a valid file never pays for it."""

    def __init__(self, resolved: ResolvedSchema) -> None:
        self.source = resolved.root.source
        self.uri = resolved.root.uri
        self._resolved = resolved
        self._explainer: Any = None  # a jsonschema validator (jsonschema has no type information)
        contents = resolved.root.contents
        # Passing a registry also stops jsonschema_rs from retrieving anything: a second lock.
        registry = jsonschema_rs.Registry(
            [(uri, schema.contents) for uri, schema in resolved.resources.items()], retriever=_refuse_retrieval
        )
        try:
            jsonschema_rs.meta.validate(contents, registry=registry)
        except jsonschema_rs.ValidationError as exc:
            raise GovernError("E_SCHEMA_MALFORMED", f"{self.source}: {json_path(exc.instance_path)}: {exc.message}") from None
        try:
            self._fast = jsonschema_rs.validator_for(
                contents, registry=registry, retriever=_refuse_retrieval, validate_formats=True
            )
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
            raise GovernError("E_SCHEMA_MALFORMED", f"{self.source}: {str(exc).splitlines()[0]}") from None

    def _compile_explainer(self):
        """The jsonschema validator, with the fast engine's ``pattern``/``format`` semantics."""
        import jsonschema
        import referencing
        from referencing.jsonschema import DRAFT202012

        contents = self._resolved.root.contents
        validator_class = jsonschema.validators.validator_for(contents, default=jsonschema.Draft202012Validator)
        try:
            validator_class.check_schema(contents)
        except jsonschema.SchemaError as exc:
            raise GovernError("E_SCHEMA_MALFORMED", f"{self.source}: {json_path(exc.absolute_path)}: {exc.message}") from None
        # referencing's attrs field is _retrieve, whose __init__ argument is retrieve (attrs
        # strips the underscore); mypy's reading of referencing's types misses that.
        registry = referencing.Registry(retrieve=_refuse_retrieval).with_resources(  # type: ignore[call-arg]
            (uri, referencing.Resource.from_contents(_without_draft_2020_12(schema.contents), default_specification=DRAFT202012))
            for uri, schema in self._resolved.resources.items()
        )
        keywords = {"properties": _properties_with_paths, "pattern": _ecma_pattern}
        explainer_class = jsonschema.validators.extend(validator_class, keywords)
        return explainer_class(contents, registry=registry, format_checker=_format_checker())

    @property
    def is_valid(self) -> Callable[[Any], bool]:
        """The pass/fail decision, ``is_valid(instance) -> bool``: the deciding engine's own
        method, so a hot loop pays no Python frame of ours per record."""
        return self._fast.is_valid

    def explain(self, instance: Any) -> list[SchemaViolation]:
        """Every violation of ``instance`` in jsonschema's words, sorted by JSON path.

        An ``anyOf``/``oneOf`` failure is narrowed to the errors of its most relevant branch,
        so each path points at an offending value.
        """
        if self._explainer is None:
            self._explainer = self._compile_explainer()
        violations = {
            SchemaViolation(json_path(narrow.absolute_path), narrow.message)
            for error in self._explainer.iter_errors(instance)
            for narrow in _narrowed(error)
        }
        return sorted(violations, key=lambda v: (v.json_path, v.message))

    def violations(self, instance: Any) -> list[SchemaViolation]:
        """Nothing for a valid instance (one fast check), else :meth:`explain`.

        Should jsonschema find nothing wrong with a record the deciding engine rejects, the
        record still fails, in the deciding engine's words: a disagreement never passes a record.
        """
        if self.is_valid(instance):
            return []
        found = self.explain(instance)
        if not found:
            found = sorted(
                {SchemaViolation(json_path(e.instance_path), e.message) for e in self._fast.iter_errors(instance)},
                key=lambda v: (v.json_path, v.message),
            )
        return found
