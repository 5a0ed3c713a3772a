"""``registry_config.toml`` (docs/configuration.md).

A workspace is a directory holding ``registry_config.toml``, found by
:func:`govern.config.root.find_workspace_root` (re-exported here). The file is
read with :mod:`tomllib` and structured into frozen attrs models by the strict converter, so
every error names the file, the key path and what was expected.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from govern.__about__ import PROJECT_NAME
from govern.config.root import CONFIG_NAME, find_workspace_root
from govern.errors import GovernError
from govern.format.paths import manifest_path_problem
from govern.format.policies import COUNT_LIMITS, Policy, glob_list_problem, limit_problem
from govern.format.run_selection import pattern_problem
from govern.runtime import environment
from govern.store.aws_profile import PROFILE_VARIABLES
from govern.store.factory import StorageOptions, is_object_store, open_store

if TYPE_CHECKING:
    from govern.format.models import RegistryKind
    from govern.store.backend import Store

REGISTRY_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
#: Every delta-record version a log may hold, oldest first (``[workspace] record_version``);
#: a workspace may move to a later one, never back.
RECORD_VERSIONS = ("0.1", "0.2")
#: Key names in ``[storage]`` that look like credentials: refused, because credentials come
#: only from the standard AWS environment (never from a file that is committed and shared).
CREDENTIAL_KEY_PATTERN = re.compile(r"access_key|secret|session_token|token|password|credential", re.IGNORECASE)
#: The variables the environment gives credentials in (named in the refusal).
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@attrs.frozen
class WorkspaceSettings:
    """The ``[workspace]`` table."""

    runs_root: str = ".codex/RUNS"
    delta_log_artifact: str = "REGISTRY_DELTA_LOG_v0_1.jsonl"
    active_pointers: str | None = None
    governance_dir: str = "governance"
    #: The version of the delta records a build writes: "0.1", or "0.2" (plugin-declared
    #: bases). A log may move from 0.1 to 0.2, never back.
    record_version: str = "0.1"
    #: The origin line of the transparency log's checkpoints (the log's identity, C2SP
    #: tlog-checkpoint); None: derived from runs_root and delta_log_artifact
    #: (:func:`govern.log.transparency.log_origin`).
    log_origin: str | None = None
    #: True only in govern's reference workspace (the seed's Phase 2.2.3 registries): its
    #: reports word their criteria as the seed's completion report did.
    reference: bool = False


@attrs.frozen
class PluginSettings:
    """The ``[plugins]`` table."""

    disable: list[str] = attrs.Factory(list)


@attrs.frozen
class RegistryConfig:
    """One ``[registries.<id>]`` table. ``options`` is for the kind's plugin: its keys are the
    ones the kind declares. The fields after ``options`` are kind-specific (:data:`KIND_KEYS`):
    a registry may set one only when its kind declares it (``RegistryKind.keys``). Both are
    checked by :func:`check_registry_kinds`, which knows the kinds."""

    kind: str
    artifact: str | None = None
    schema: str | None = None
    reason: str | None = None
    description: str | None = None
    options: dict[str, Any] = attrs.Factory(dict)
    # kind sql_table (docs/registry-kinds.md): where the table is and how its rows are keyed.
    #: ``sqlite:///path`` (relative to the workspace) or ``postgresql://user@host:port/db``, never with a password.
    dsn: str | None = None
    #: The environment variable holding the database password (never the password itself).
    password_env: str | None = None
    #: The table, or a deterministic query (exactly one of the two).
    table: str | None = None
    query: str | None = None
    #: The key columns; default: the table's primary key.
    key: list[str] | None = None
    #: A snapshot's rows are split into parts of about this many bytes (a new part only between rows).
    part_bytes: int | None = None

    # Kind ``collection`` (docs/registry-kinds.md (collection)): which sealed runs are its members. Without
    # ``pattern`` or ``op_id`` a collection stays excluded by design, as in the seed.
    #: A glob over run ids (:mod:`govern.format.run_selection`).
    pattern: str | None = None
    #: The ``op_id`` a member's run.json names.
    op_id: str | None = None
    #: A file (manifest path) every member run holds.
    marker: str | None = None

    # Kinds kept outside the runs root (docs/registry-kinds.md): where the source is.
    #: ``ocfl_object``: the object's root or a storage root; ``bagit``: the folder of bags;
    #: ``git``: a folder of the repository (only commits that change it are snapshots).
    #: Relative to the workspace, or absolute (``git``: relative to the repository).
    path: str | None = None
    #: ``ocfl_object`` with a storage root as ``path``: the id of the object.
    object_id: str | None = None
    #: ``bagit``: the bag-info tag ordering the bags (default ``Bagging-Date``), or ``name``.
    order_by: str | None = None
    #: ``git``: the repository (a working tree or a bare repository), relative to the workspace or absolute.
    repo: str | None = None
    #: ``git``: the branch, tag or commit whose first-parent history is the registry's.
    ref: str | None = None

    # Policies (docs/policies.md): this registry's rules, each over the workspace-wide [policies] one.
    policy: Policy = attrs.Factory(Policy)

    def kind_key_values(self) -> dict[str, Any]:
        """The kind-specific keys this registry sets (:data:`KIND_KEYS`), name → value, in field order."""
        return {name: getattr(self, name) for name in KIND_KEYS if getattr(self, name) is not None}

    @property
    def selects_members(self) -> bool:
        """True when this (collection) registry configures its members: ``pattern`` or ``op_id``."""
        return self.pattern is not None or self.op_id is not None


#: The keys every registry may set, whatever its kind; every other field of
#: :class:`RegistryConfig` is a kind-specific key (:data:`KIND_KEYS`).
COMMON_REGISTRY_KEYS = ("kind", "artifact", "schema", "reason", "description", "options", "policy")
#: The kind-specific registry-level keys: a registry sets one only when its kind declares it.
KIND_KEYS = tuple(field.name for field in attrs.fields(RegistryConfig) if field.name not in COMMON_REGISTRY_KEYS)


@attrs.frozen
class WorkspaceConfig:
    """The whole of ``registry_config.toml``."""

    workspace: WorkspaceSettings = attrs.Factory(WorkspaceSettings)
    plugins: PluginSettings = attrs.Factory(PluginSettings)
    registries: dict[str, RegistryConfig] = attrs.Factory(dict)
    #: Where an ``s3://`` runs root's server is (docs/object-storage.md).
    storage: StorageOptions = attrs.Factory(StorageOptions)
    #: The workspace-wide policies (docs/policies.md).
    policies: Policy = attrs.Factory(Policy)


@attrs.frozen
class Registry:
    """A configured registry: its id and its configuration."""

    id: str
    config: RegistryConfig

    @property
    def kind(self) -> str:
        """The registry kind (``sealed``, ``external``, … or a plugin's)."""
        return self.config.kind


@attrs.frozen
class Workspace:
    """A loaded workspace: where it is and what it configures."""

    root: Path
    config: WorkspaceConfig

    @property
    def config_path(self) -> Path:
        """The ``registry_config.toml`` file."""
        return self.root / CONFIG_NAME

    @property
    def runs_root(self) -> Path:
        """Where run folders live, for a local runs root (for ``s3://`` the local commands
        that need a folder refuse with E_USAGE; everything that reads runs uses
        :meth:`run_store`)."""
        return self.local_runs_root("this command needs a local runs root")

    def local_runs_root(self, refusal: str) -> Path:
        """The folder of a local runs root; for one on object storage, E_USAGE naming the
        configured location and ``refusal`` (why the command needs a folder, and what to do instead)."""
        if not self.runs_root_is_local:
            raise GovernError("E_USAGE", f"{self.config_path}: workspace.runs_root = {self.runs_location!r}: {refusal}")
        return self.root / self.config.workspace.runs_root

    @property
    def runs_location(self) -> str:
        """The runs root as configured: a path relative to the workspace, or ``s3://bucket/prefix``."""
        return self.config.workspace.runs_root

    @property
    def recorded_runs_root(self) -> str:
        """How delta records name the runs root (a sealed_ref's ``run_root``): the configured
        path of a local runs root; the key prefix inside the bucket of an ``s3://`` one, so a
        runs root copied to ``s3://bucket/<its path>`` records exactly what it did on disk."""
        if self.runs_root_is_local:
            return self.runs_location
        return self.runs_location.removeprefix("s3://").partition("/")[2].strip("/")

    def run_location(self, run_id: str) -> str:
        """Where run ``run_id`` is, for messages: its folder (``..`` steps of a runs root outside
        the workspace folded away), or its URL on object storage."""
        if self.runs_root_is_local:
            return os.path.normpath(self.runs_root / run_id)
        return f"{self.runs_location.rstrip('/')}/{run_id}"

    @property
    def runs_root_is_local(self) -> bool:
        """True when the runs root is a local folder (not object storage)."""
        return not is_object_store(self.runs_location)

    def store(self) -> Store:
        """The storage backend holding the runs root: a local folder, or ``s3://`` with one
        client per location, options and credentials, shared by the commands of a process.
        The run store every command reads runs through is built over it by the runs layer
        (``govern.runs.run_store.workspace_runs``): config sits below runs."""
        if self.runs_root_is_local:
            return open_store(self.runs_location, relative_to=self.root)
        credentials = tuple((name, environment.current().get(name)) for name in _CLIENT_VARIABLES)
        return _object_store(self.runs_location, self.root, self.config.storage, credentials)

    @property
    def governance_dir(self) -> Path:
        """Where the governance documents live."""
        return self.root / self.config.workspace.governance_dir

    @property
    def active_pointers_path(self) -> Path | None:
        """The optional active-pointers file."""
        pointers = self.config.workspace.active_pointers
        return None if pointers is None else self.root / pointers

    def registries(self) -> list[Registry]:
        """Every configured registry, sorted by id."""
        return [Registry(rid, cfg) for rid, cfg in sorted(self.config.registries.items())]

    def registry(self, registry_id: str) -> Registry:
        """One registry by id; E_REGISTRY_UNKNOWN naming the configured ids if absent."""
        cfg = self.config.registries.get(registry_id)
        if cfg is None:
            known = ", ".join(sorted(self.config.registries)) or "none"
            raise GovernError("E_REGISTRY_UNKNOWN", f"{self.config_path}: no registry {registry_id!r} (configured: {known})")
        return Registry(registry_id, cfg)

    def check_runs_root(self) -> None:
        """The configured runs root must be an existing folder (E_RUNS_ROOT_MISSING,
        E_NOT_A_DIRECTORY), naming the configured value, the resolved path and the key.

        Called before anything reads or locks the runs root: a typo (``.codex/RUN``) would
        otherwise read as an empty history that "verifies", and the lock would create the
        typo'd folder.
        """
        if not self.runs_root_is_local:
            return  # a missing bucket is E_STORE_UNREACHABLE at the first request
        configured = self.config.workspace.runs_root
        where = f"{self.config_path}: workspace.runs_root = {configured!r}"
        path = self.runs_root
        if not path.exists():
            raise GovernError(
                "E_RUNS_ROOT_MISSING",
                f"{where}: {path} does not exist; fix workspace.runs_root, or create the folder if the value is right",
            )
        if not path.is_dir():
            raise GovernError("E_NOT_A_DIRECTORY", f"{where}: {path} is not a directory")


#: The variables an object-store client is made from (a change of any gives another client).
_CLIENT_VARIABLES = (
    *CREDENTIAL_VARIABLES,
    *PROFILE_VARIABLES,
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
)


@functools.lru_cache(maxsize=8)
def _object_store(location: str, root: Path, storage: StorageOptions, _credentials: tuple[tuple[str, str | None], ...]) -> Store:
    """The store of an object-storage runs root, one per location, options and credentials
    (``_credentials`` only keys the cache: the client reads the invocation's environment)."""
    return open_store(location, relative_to=root, storage=storage)


def _check_storage_keys(raw: Any, source: Path) -> None:
    """Refuse a credential in the ``[storage]`` table (E_CONFIG_INVALID naming the key)."""
    storage = raw.get("storage") if isinstance(raw, dict) else None
    if not isinstance(storage, dict):
        return
    for key in sorted(storage):
        if CREDENTIAL_KEY_PATTERN.search(key):
            raise GovernError(
                "E_CONFIG_INVALID",
                f"{source}: storage.{key}: credentials are never read from the config file; "
                f"give them in the environment ({', '.join(CREDENTIAL_VARIABLES)}) or an AWS profile (~/.aws/credentials) "
                "as every AWS client reads them",
            )


def parse_config(text: str, source: Path) -> WorkspaceConfig:
    """Parse and check the text of a config file; errors name ``source`` and the key."""
    if text.startswith("\ufeff"):
        raise GovernError("E_CONFIG_SYNTAX", f"{source}: starts with a byte-order mark (BOM); save it as plain UTF-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends "(at line L, column C)".
        raise GovernError("E_CONFIG_SYNTAX", f"{source}: {exc}") from None
    # cattrs is imported here, not at module level: finding a workspace (done on every
    # command, to read [plugins] disable early) must not pay for it.
    from govern.config.converter import describe_structure_error, make_converter

    _check_storage_keys(raw, source)
    try:
        config = make_converter().structure(raw, WorkspaceConfig)
    except Exception as exc:  # cattrs raises ClassValidationError / BaseValidationError groups
        messages = describe_structure_error(exc)
        raise GovernError("E_CONFIG_INVALID", f"{source}: {'; '.join(messages)}") from None
    _check_values(config, source)
    return config


def _check_values(config: WorkspaceConfig, source: Path) -> None:
    for registry_id, registry in config.registries.items():
        if not REGISTRY_ID_PATTERN.fullmatch(registry_id):
            # repr: the id is hostile until checked (a quoted TOML key may hold a newline).
            raise GovernError("E_CONFIG_INVALID", f"{source}: registries[{registry_id!r}]: id must match [a-z][a-z0-9_]*")
        if registry.artifact is not None:
            reason = manifest_path_problem(registry.artifact)
            if reason:
                raise GovernError("E_CONFIG_INVALID", f"{source}: registries.{registry_id}.artifact: {reason}{_path_advice(registry.artifact)}")
        _check_member_selection(registry, f"{source}: registries.{registry_id}")
        _check_policy(registry.policy, f"{source}: registries.{registry_id}.policy")
    _check_policy(config.policies, f"{source}: policies")
    if config.policies.schema is not None:
        raise GovernError("E_CONFIG_INVALID", f"{source}: policies.schema: a schema belongs to one registry's artifact; set it in [registries.ID.policy]")
    version = config.workspace.record_version
    if version not in RECORD_VERSIONS:
        expected = " or ".join(f'"{v}"' for v in RECORD_VERSIONS)
        raise GovernError("E_CONFIG_INVALID", f"{source}: workspace.record_version: {version!r} is not a record version (expected {expected})")
    artifact = config.workspace.delta_log_artifact
    reason = manifest_path_problem(artifact)
    if reason:
        raise GovernError("E_CONFIG_INVALID", f"{source}: workspace.delta_log_artifact: {reason}")
    origin = config.workspace.log_origin
    if origin is not None and (reason := log_origin_problem(origin)):
        raise GovernError("E_CONFIG_INVALID", f"{source}: workspace.log_origin: {origin[:80]!r} {reason}")
    _check_storage_values(config, source)


#: The kind whose registries may select member runs (``pattern``, ``op_id``, ``marker``).
COLLECTION_KIND = "collection"


def _check_member_selection(registry: RegistryConfig, where: str) -> None:
    """A collection's member selection must be usable (E_CONFIG_INVALID naming the key).
    On a registry of another kind the keys are refused by :func:`check_kind_keys`."""
    if registry.kind != COLLECTION_KIND:
        return
    if registry.pattern is not None and (problem := pattern_problem(registry.pattern)):
        raise GovernError("E_CONFIG_INVALID", f"{where}.pattern: {registry.pattern!r} {problem}")
    if registry.op_id is not None and not registry.op_id.strip():
        raise GovernError("E_CONFIG_INVALID", f"{where}.op_id: is empty (expected the op_id member runs name, such as 'OP-QA07')")
    if registry.marker is not None:
        if not registry.selects_members:
            raise GovernError("E_CONFIG_INVALID", f"{where}.marker: a marker narrows the members pattern or op_id selects; set one of them")
        if reason := manifest_path_problem(registry.marker):
            raise GovernError("E_CONFIG_INVALID", f"{where}.marker: {reason}")


def _check_policy(policy: Policy, where: str) -> None:
    """A policy's limits and globs must be usable (E_CONFIG_INVALID naming the key)."""
    for rule in COUNT_LIMITS:
        limit = getattr(policy, rule)
        if limit is not None and (problem := limit_problem(limit)):
            raise GovernError("E_CONFIG_INVALID", f"{where}.{rule}: {problem}")
    for rule in ("immutable_paths", "never_remove"):
        patterns = getattr(policy, rule)
        if patterns is not None and (problem := glob_list_problem(patterns)):
            raise GovernError("E_CONFIG_INVALID", f"{where}.{rule}: {problem}")
    if policy.schema is not None and not policy.schema.strip():
        raise GovernError("E_CONFIG_INVALID", f"{where}.schema: is empty (expected a JSON Schema path, such as 'schemas/x.schema.json')")


#: The longest ``log_origin`` accepted: an origin is a name, not a document.
MAX_LOG_ORIGIN_LENGTH = 256


def log_origin_problem(origin: str) -> str | None:
    """Why ``origin`` cannot be a checkpoint's origin line, or None.

    Stricter than the C2SP format (which takes any non-empty line): the specification
    recommends a schema-less URL-like name without spaces, and an origin a verifier has to
    match byte for byte is better without invisible differences (spaces, control characters).
    """
    if not origin:
        return "is empty"
    if len(origin) > MAX_LOG_ORIGIN_LENGTH:
        return f"is longer than {MAX_LOG_ORIGIN_LENGTH} characters"
    if any(ch.isspace() or not ch.isprintable() for ch in origin):
        return "holds whitespace or a control character (expected a name like example.com/govern/log)"
    return None


def _check_storage_values(config: WorkspaceConfig, source: Path) -> None:
    """An ``s3://`` runs root names a bucket; an endpoint is an http(s) URL, plain http only
    with ``allow_http``."""
    runs_root = config.workspace.runs_root
    if is_object_store(runs_root) and not runs_root.removeprefix("s3://").partition("/")[0]:
        raise GovernError(
            "E_CONFIG_INVALID", f"{source}: workspace.runs_root: {runs_root!r} names no bucket (expected s3://bucket/prefix)"
        )
    endpoint = config.storage.endpoint_url
    if endpoint is not None:
        if not endpoint.startswith(("http://", "https://")):
            raise GovernError(
                "E_CONFIG_INVALID", f"{source}: storage.endpoint_url: {endpoint!r} is not an http:// or https:// URL"
            )
        if endpoint.startswith("http://") and not config.storage.allow_http:
            raise GovernError(
                "E_CONFIG_INVALID",
                f"{source}: storage.endpoint_url: {endpoint!r} is plain HTTP; set storage.allow_http = true for a local server",
            )
    if config.storage.max_retries < 0:
        raise GovernError("E_CONFIG_INVALID", f"{source}: storage.max_retries: must be 0 or more")


def folder_artifact(path: str) -> str | None:
    """The folder artifact meant by a path written with a trailing '/' (``reports/`` →
    ``reports``: a manifest path never ends with '/'), or None when ``path`` is not such a
    path or is malformed otherwise."""
    stripped = path.rstrip("/")
    return stripped if stripped != path and stripped and manifest_path_problem(stripped) is None else None


def _path_advice(path: str) -> str:
    """Advice that works for the one malformed path with an obvious fix (a trailing '/')."""
    folder = folder_artifact(path)
    return "" if folder is None else f" (a folder artifact is written without it: artifact = {folder!r})"


def load_workspace(start: Path | None = None, explicit: Path | None = None) -> Workspace:
    """Find and load the workspace (E_WORKSPACE_NOT_FOUND, E_CONFIG_SYNTAX, E_CONFIG_INVALID)."""
    root = find_workspace_root(start, explicit)
    path = root / CONFIG_NAME
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GovernError("E_IO", f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GovernError("E_CONFIG_SYNTAX", f"{path}: invalid UTF-8 at byte {exc.start}") from None
    return Workspace(root=root, config=parse_config(text, path))


def check_registry_kinds(
    workspace: Workspace, kinds: Mapping[str, RegistryKind], *, unknown_is_error: bool = True
) -> list[str]:
    """Every registry's kind must be declared by a plugin, with the keys that kind requires
    and no option it does not declare.

    A kind no plugin declares is E_CONFIG_UNKNOWN_KIND where the kind's code must run (a
    build). Commands that only check seals and the log never run it (an auditor's machine
    need not have the pipeline's plugins): with ``unknown_is_error=False`` each such registry
    is a returned warning instead, naming the entry-point group to install it from.
    """
    warnings: list[str] = []
    for registry in workspace.registries():
        kind = kinds.get(registry.kind)
        where = f"{workspace.config_path}: registries.{registry.id}"
        if kind is None:
            if not unknown_is_error:
                warnings.append(
                    f"{where}.kind: no installed plugin handles kind {registry.kind!r}; checking seals and the log "
                    f"does not need it, building does (install the plugin that provides it: entry-point group {PROJECT_NAME!r})"
                )
                continue
            installed = ", ".join(sorted(kinds)) or "none"
            raise GovernError(
                "E_CONFIG_UNKNOWN_KIND",
                f"{where}.kind: no installed plugin handles kind {registry.kind!r} (installed kinds: {installed})",
            )
        # Options and keys first: a setting left in ``options`` from an older layout is named
        # with its new place before it is reported missing there.
        check_registry_options(registry, kind, where)
        check_kind_keys(registry, kind, kinds, where)
        for key in kind.requires:
            if required_value(registry.config, key) is None:
                raise GovernError("E_CONFIG_INVALID", f"{where}.{key}: required for kind {registry.kind!r}")
    return warnings


def check_registry_options(registry: Registry, kind: RegistryKind, where: str) -> None:
    """Every key of the registry's ``options`` table must be one its kind declares
    (E_CONFIG_INVALID naming the option, the kind and the options it accepts; an option named
    like a registry-level key the kind uses says to set it there)."""
    accepted = kind.accepted_options()
    for name in sorted(registry.config.options):
        if name not in accepted:
            accepts = f"accepts: {', '.join(accepted)}" if accepted else "accepts no options"
            hint = f"; {name} is a key of the registry itself now: set registries.{registry.id}.{name}" if name in kind.accepted_keys() else ""
            raise GovernError(
                "E_CONFIG_INVALID", f"{where}.options.{name}: unknown option for kind {registry.kind!r} (it {accepts}){hint}"
            )


def check_kind_keys(registry: Registry, kind: RegistryKind, kinds: Mapping[str, RegistryKind], where: str) -> None:
    """Every kind-specific key the registry sets (:data:`KIND_KEYS`) must be one its kind uses
    (E_CONFIG_INVALID naming the key, the kind and the kinds that use it): ``dsn`` on a
    ``sealed`` registry is a mistake, never silently ignored."""
    accepted = kind.accepted_keys()
    for name in registry.config.kind_key_values():
        if name in accepted:
            continue
        users = sorted(other.name for other in kinds.values() if name in other.accepted_keys())
        used_by = "no installed kind uses it" if not users else f"kind {users[0]} uses it" if len(users) == 1 else f"kinds {', '.join(users)} use it"
        raise GovernError("E_CONFIG_INVALID", f"{where}.{name}: not a key of kind {registry.kind!r} ({used_by})")


def required_value(config: RegistryConfig, key: str) -> Any:
    """The value of a key a kind requires: a registry key (``artifact``) or one of its
    ``options`` (``options.key``); None when it is not set."""
    if key.startswith("options."):
        return config.options.get(key.removeprefix("options."))
    return getattr(config, key, None)
