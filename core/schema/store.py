"""Where JSON Schemas come from, and the guarantee that none is ever fetched from a network.

A schema is named by a path (relative to the workspace, as ``schema = …`` in
``registry_config.toml``) or by the file name or ``$id`` of a built-in schema (package data
``govern.schemas``). A ``$ref`` resolves only to schemas already on disk: the built-ins and the
workspace's ``schemas/`` directory. Every ``$ref`` of a schema, and of every schema it reaches,
is checked *before* a validator is built, so a remote reference is a clear ``E_SCHEMA_REF``
rather than a request; the validators are also handed retrievers that refuse, as a second lock.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import attrs

from govern.errors import GovernError
from govern.format.jsonio import StrictJSONError, loads_strict

BUILTIN_PACKAGE = "govern.schemas"
#: The base of the built-in schemas' ``$id``s: a name in the reserved ``.invalid`` domain.
BUILTIN_BASE_URI = "https://govern.invalid/schemas/"
#: The workspace directory whose ``*.json`` files a ``$ref`` may name.
WORKSPACE_SCHEMAS_DIR = "schemas"
#: The built-in schema of the delta log's records (docs/delta-log.md, "Records"), record version 0.1.
DELTA_LOG_SCHEMA = "REGISTRY_registry_delta_log_v0_1.schema.json"
#: The built-in schema of each delta-record version.
DELTA_LOG_SCHEMAS = {"0.1": DELTA_LOG_SCHEMA, "0.2": "REGISTRY_registry_delta_log_v0_2.schema.json"}
#: The built-in schema of a delta record of any version: each record is held to the schema of
#: the version it states (what a build, ``govern validate`` and ``verify --log`` check).
DELTA_RECORD_SCHEMA = "REGISTRY_registry_delta_log.schema.json"
#: Largest schema file read.
MAX_SCHEMA_BYTES = 16 << 20

_REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
#: The dialects (``$schema``) both validation engines know without fetching anything.
STANDARD_DIALECTS = frozenset(
    {
        "http://json-schema.org/draft-04/schema",
        "http://json-schema.org/draft-06/schema",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    }
)


@attrs.frozen
class Schema:
    """A loaded schema: its base URI (``$id``), its contents, and where it came from."""

    uri: str
    contents: Any
    #: ``built-in NAME`` or the file's path, for messages.
    source: str


@attrs.frozen
class ResolvedSchema:
    """A schema with every schema its ``$ref``s reach, keyed by each URI they are reached by."""

    root: Schema
    resources: dict[str, Schema]


def _parse_schema(data: bytes, source: str) -> Any:
    try:
        contents = loads_strict(data)
    except StrictJSONError as exc:
        where = exc.where()
        raise GovernError("E_SCHEMA_MALFORMED", f"{source}: {where + ': ' if where else ''}{exc.reason}") from None
    if not isinstance(contents, (dict, bool)):
        raise GovernError("E_SCHEMA_MALFORMED", f"{source}: a schema is a JSON object or a boolean")
    return contents


def _read_schema_file(path: Path, source: str | None = None) -> Schema:
    """Load a schema file (``source``: how messages name it, default its path); one without
    ``$id`` is given its ``file:`` URI as base URI.

    Writing that URI into the contents makes both validation engines resolve the schema's
    relative ``$ref``s against the same base as the reference check does.
    """
    source = source or str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SCHEMA_BYTES + 1)
    except FileNotFoundError:
        raise GovernError("E_SCHEMA_NOT_FOUND", f"{source}: no such schema file") from None
    except OSError as exc:
        raise GovernError("E_IO", f"{source}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_SCHEMA_BYTES:
        raise GovernError("E_SCHEMA_MALFORMED", f"{source}: larger than {MAX_SCHEMA_BYTES} bytes")
    contents = _parse_schema(data, source)
    file_uri = path.resolve().as_uri()
    if isinstance(contents, dict) and isinstance(contents.get("$id"), str):
        return Schema(urljoin(file_uri, contents["$id"]), contents, source)
    if isinstance(contents, dict):
        contents = {**contents, "$id": file_uri}
    return Schema(file_uri, contents, source)


def builtin_schemas() -> dict[str, Schema]:
    """Every built-in schema, by file name. Each carries ``$id`` ``BUILTIN_BASE_URI + name``
    (a name, never fetched); one that does not is given that URI, so references by file
    name between built-ins always resolve."""
    found: dict[str, Schema] = {}
    for entry in importlib.resources.files(BUILTIN_PACKAGE).iterdir():
        if not entry.name.endswith(".json"):
            continue
        contents = _parse_schema(entry.read_bytes(), f"built-in {entry.name}")
        declared = contents.get("$id") if isinstance(contents, dict) else None
        uri = urldefrag(declared).url if isinstance(declared, str) and declared.startswith("https://") else None
        if uri is None:
            uri = BUILTIN_BASE_URI + entry.name
            if isinstance(contents, dict):
                contents = {**contents, "$id": uri}
        found[entry.name] = Schema(uri, contents, f"built-in {entry.name}")
    return found


def _metaschema_registry():
    # The metaschemas ship with jsonschema-specifications: local, never fetched. Imported
    # only when a reference is not to a stored schema (it reads every draft from disk).
    from jsonschema_specifications import REGISTRY

    return REGISTRY


def _self_contained(schema: Schema) -> bool:
    """True when ``schema`` plainly reaches no other document: every reference anywhere in it
    is a fragment (``#…``), nothing below the top declares an ``$id`` (or draft-04 ``id``),
    and every ``$schema`` is a standard dialect.

    Any key counts, wherever it sits (even inside ``const``), so this is never True where
    :func:`_walk`, which reads keywords only where the draft puts them, would find a reference
    out of the schema or a dialect to refuse; False only means "ask :func:`_walk`". The point
    is to spare the built-in delta-log schema importing ``referencing`` (11 ms of start-up).
    """
    contents = schema.contents
    if not isinstance(contents, dict):
        return False
    declared = contents.get("$id")
    if not isinstance(declared, str) or urldefrag(urljoin(schema.uri, declared)).url != schema.uri:
        return False
    stack: list[Any] = [contents]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _REFERENCE_KEYWORDS and not (isinstance(value, str) and value.startswith("#")):
                    return False
                if key in ("$id", "id") and isinstance(value, str) and node is not contents:
                    return False
                if key == "$schema" and value not in STANDARD_DIALECTS:
                    return False
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _walk(schema: Schema) -> tuple[list[tuple[str, str]], set[str], set[str]]:
    """The references of ``schema`` as ``(written, absolute URI)``, the base URIs its
    embedded ``$id``s declare (targets inside the schema itself), and the ``$schema`` dialects
    it names.

    Walks only subschemas, through the draft's own keyword table, so a ``"$ref"`` key inside
    ``const``, ``enum`` or ``properties`` names is data, not a reference.
    """
    from referencing.jsonschema import DRAFT202012, specification_with

    references: list[tuple[str, str]] = []
    embedded: set[str] = set()
    dialects: set[str] = set()
    contents = schema.contents
    if not isinstance(contents, dict):
        return references, embedded, dialects
    specification = specification_with(contents.get("$schema", ""), default=DRAFT202012)
    stack = [(specification.create_resource(contents), schema.uri)]
    while stack:
        resource, base = stack.pop()
        own_id = resource.id()
        if own_id:
            base = urljoin(base, own_id)
            embedded.add(urldefrag(base).url)
        if isinstance(resource.contents, dict):
            dialect = resource.contents.get("$schema")
            if isinstance(dialect, str):
                dialects.add(dialect)
            for keyword in _REFERENCE_KEYWORDS:
                target = resource.contents.get(keyword)
                if isinstance(target, str):
                    references.append((target, urljoin(base, target)))
        stack.extend((sub, base) for sub in resource.subresources())
    return references, embedded, dialects


class SchemaStore:
    """The schemas a workspace can name: the built-ins and its ``schemas/`` directory.

    ``workspace_root`` may be None (no workspace): then only built-ins and explicit paths
    resolve. A built-in ``$id`` always names the built-in schema, whatever a workspace file
    claims, so a workspace cannot silently change what a built-in reference means.
    """

    def __init__(self, workspace_root: Path | None = None) -> None:
        self.workspace_root = workspace_root
        self._builtins = builtin_schemas()
        self._by_uri: dict[str, Schema] = {}
        self._unreadable: dict[str, GovernError] = {}
        self._index_workspace_schemas()
        for name, schema in self._builtins.items():
            self._by_uri[schema.uri] = schema
            # A workspace schema may name a built-in by file name ("$ref": "X.schema.json").
            if self._schemas_dir is not None:
                self._by_uri.setdefault((self._schemas_dir / name).as_uri(), schema)

    @property
    def _schemas_dir(self) -> Path | None:
        if self.workspace_root is None:
            return None
        return (self.workspace_root / WORKSPACE_SCHEMAS_DIR).resolve()

    def _index_workspace_schemas(self) -> None:
        directory = self._schemas_dir
        if directory is None or not directory.is_dir():
            return
        for path in sorted(directory.glob("*.json")):
            try:
                schema = _read_schema_file(path)
            except GovernError as error:
                # A broken file nobody references must not break validation of others.
                self._unreadable[path.as_uri()] = error
                continue
            self._by_uri.setdefault(path.as_uri(), schema)
            self._by_uri.setdefault(schema.uri, schema)

    def load(self, name: str, *, relative_to: Path | None = None) -> Schema:
        """The schema ``name`` names: a path (relative to ``relative_to``, default the
        workspace), else a built-in's file name or ``$id`` (E_SCHEMA_NOT_FOUND)."""
        base = relative_to if relative_to is not None else self.workspace_root
        candidate = Path(name) if base is None else base / name
        if candidate.is_file():
            # Named on the command line: shown as typed; from the config: with the workspace.
            return _read_schema_file(candidate, name if relative_to is not None else None)
        builtin = self._builtins.get(name) or self._builtins.get(Path(name).name)
        if builtin is None:
            builtin = next((s for s in self._builtins.values() if s.uri == urldefrag(name).url), None)
        if builtin is not None:
            return builtin
        raise GovernError(
            "E_SCHEMA_NOT_FOUND",
            f"schema {name!r}: no such file{f' in {base}' if base else ''}, and no built-in schema of that name",
        )

    def resolve(self, root: Schema) -> ResolvedSchema:
        """``root`` and every schema its references reach; E_SCHEMA_REF for any that is not
        local, and for a ``$schema`` that is not a standard dialect (a metaschema is a reference
        too: some validators fetch an unknown one)."""
        resources: dict[str, Schema] = {root.uri: root}
        pending = [] if _self_contained(root) else [root]
        while pending:
            schema = pending.pop()
            references, embedded, dialects = _walk(schema)
            for dialect in dialects:
                if urldefrag(dialect).url not in STANDARD_DIALECTS:
                    raise GovernError(
                        "E_SCHEMA_REF",
                        f"{schema.source}: $schema {dialect!r} is not a standard JSON Schema dialect "
                        f"({', '.join(sorted(STANDARD_DIALECTS))}); metaschemas are never fetched",
                    )
            for written, target in references:
                document = urldefrag(target).url
                if not document or document in embedded or document in resources:
                    continue
                if document in self._unreadable:
                    raise self._unreadable[document]
                local = self._by_uri.get(document)
                if local is not None:
                    resources[document] = local
                    pending.append(local)
                elif document in _metaschema_registry():
                    continue
                else:
                    resolved = f" ({document})" if document != urldefrag(written).url else ""
                    raise GovernError(
                        "E_SCHEMA_REF",
                        f"{schema.source}: remote $ref {written!r}{resolved} is never fetched; only the built-in "
                        f"schemas and the workspace's {WORKSPACE_SCHEMAS_DIR}/ directory are resolved",
                    )
        return ResolvedSchema(root, resources)
