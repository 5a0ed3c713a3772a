"""Exit codes, stable error codes and the exception that carries them.

Every failure govern reports has a stable code (``E_…``) documented in ``docs/errors.md``;
a test keeps that page and :data:`ERROR_CODES` in step. Codes are for machines and for
searching the docs; the message beside them is for people and names the file, key, run or path.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit codes (DESIGN §8)."""

    OK = 0
    #: A check ran and found problems (tamper, schema-invalid, conflict, stale).
    PROBLEMS = 1
    #: Usage, configuration or input error: nothing was done.
    USAGE = 2
    #: The workspace is locked by another govern process.
    LOCKED = 3
    #: Interrupted (SIGINT or SIGTERM): 128 + SIGINT, as shells report a Ctrl-C.
    INTERRUPTED = 130


#: Every error code govern emits, with a one-line summary (the docs page expands on each).
ERROR_CODES: dict[str, str] = {
    # usage, configuration, input
    "E_USAGE": "the command line is wrong (unknown option, missing argument)",
    "E_INTERNAL": "a bug in govern or a plugin (rerun with -v for the traceback and report it)",
    "E_WORKSPACE_NOT_FOUND": "no registry_config.toml in the given directory or any parent",
    "E_WORKSPACE_EXISTS": "`govern init` refused to overwrite an existing workspace",
    "E_CONFIG_SYNTAX": "registry_config.toml is not valid TOML",
    "E_CONFIG_INVALID": "registry_config.toml has an unknown key, a missing key or a wrong type",
    "E_CONFIG_UNKNOWN_KIND": "a registry's kind is not handled by any installed plugin",
    "E_RUNS_ROOT_MISSING": "the configured runs root (workspace.runs_root) does not exist",
    "E_CLOCK_INVALID": "--at or SOURCE_DATE_EPOCH is not a valid time",
    "E_NOT_A_DIRECTORY": "a path that must be a directory is not one",
    "E_JSON_INVALID": "a JSON or JSONL file is not strictly valid (syntax, duplicate key, NaN, depth, size, encoding)",
    "E_IO": "reading or writing a file failed (permission, disk full, I/O error)",
    "E_LOCKED": "another govern process holds the workspace lock",
    "E_INTERRUPTED": "the command was interrupted (Ctrl-C, SIGTERM); exit 130, and nothing was written unless it says so",
    "E_WORKER_FAILED": "a worker process (hashing, reading manifests) died before finishing its task",
    "E_PLUGIN_FAILED": "a plugin failed to load, failed validation, or raised inside a hook",
    "E_REGISTRY_EXISTS": "`govern registry add` named a registry id the configuration already has",
    "E_PATH_OUTSIDE": "a --path argument is an absolute path outside the workspace",
    "E_REGISTRY_UNKNOWN": "a command named a registry id the configuration does not have",
    # sealing refusals
    "E_ALREADY_SEALED": "the run already has a seal (check it with 'govern verify RUN'; --reseal only for a run the delta log never recorded)",
    "E_RESEAL_REFUSED": "--reseal of a delta-log build, or of a snapshot the delta log records (it would rewrite history)",
    "E_SYMLINK": "a symbolic link inside a run (never followed)",
    "E_SPECIAL_FILE": "a FIFO, socket or device inside a run",
    "E_UNSAFE_NAME": "a file name with a backslash, NUL, CR or LF, or not valid UTF-8",
    "E_NAME_COLLISION": "two names equal after NFC normalisation or after case-folding",
    "E_FILE_CHANGED": "a file changed (size or mtime) while it was being hashed, or the tree changed while sealing",
    "E_FILE_UNREADABLE": "a file could not be read",
    # verification
    "E_SEAL_MISSING": "the run has no MANIFEST.sha256 (not sealed, or sealing was interrupted)",
    "E_SEAL_MALFORMED": "MANIFEST.sha256 is not exactly one line '<64 hex>  manifest.json'",
    "E_SEAL_MISMATCH": "manifest.json does not hash to the value in MANIFEST.sha256",
    "E_MANIFEST_MISSING": "the run has a seal but no manifest.json",
    "E_MANIFEST_INVALID": "manifest.json is not a well-formed manifest",
    "E_ALGORITHM_UNKNOWN": "the manifest names a digest algorithm other than sha256",
    "E_RUN_ID_MISMATCH": "the manifest's run_id is not the run folder's name",
    "E_UNSAFE_PATH": "a manifest path is absolute, has '..', empty or '.' parts, a backslash or control characters, or is not NFC",
    "E_PATH_DUPLICATE": "a path is listed twice in the manifest",
    "E_PATH_CONFLICT": "a path is listed both as a file and as a directory",
    "E_MANIFEST_UNSORTED": "manifest entries are not sorted by path",
    "E_DIGEST_MALFORMED": "a digest is not 64 lowercase hex characters",
    "E_SIZE_MALFORMED": "a size is not a non-negative integer",
    "E_FILE_MISSING": "a file listed in the manifest is not on disk",
    "E_FILE_UNLISTED": "a file on disk is not listed in the manifest",
    "E_SIZE_MISMATCH": "a file's size differs from the manifest",
    "E_DIGEST_MISMATCH": "a file's SHA-256 differs from the manifest",
    # delta log
    "E_RUN_EXISTS": "a run folder of that name already exists; it is never overwritten",
    "E_HISTORY_CONFLICT": "a recorded snapshot changed, a new snapshot is dated before the last recorded one, or the clock went backwards",
    "E_SNAPSHOT_MISSING": "a snapshot the delta log records no longer exists, and no build acknowledged its loss",
    "E_STRICT": "--strict: unsealed or late runs were found (listed above)",
    "E_SNAPSHOT_UNVERIFIED": "a snapshot's seal does not verify, or a new snapshot's artifact files differ from its manifest (rerun with --allow-unknown to record it as 'unknown')",
    "E_RECORD_INVALID": "a build planned a delta record that fails the record schema of its version; nothing written",
    "E_BASIS_UNDECLARED": "a plugin answered govern_delta_basis with a basis no plugin declares (govern_delta_bases); nothing written",
    "E_LOG_TAMPERED": "a delta-log build's log or state differs from its seal, or an earlier build's log is not an exact prefix",
    "E_LOG_TORN": "the delta log ends with an incomplete line (see 'govern repair --log')",
    "E_LOG_INVALID": "a delta-log line is not a canonical, schema-valid record, or a registry's chain does not link",
    "E_NOT_A_RUN": "the directory is not a run folder (its name is not YYYY-MM-DD__HHMMSS__slug)",
    "E_REPAIR_REFUSED": "'govern repair --log' found damage other than a torn tail it can prove by the seal; nothing changed",
    # schema validation
    "E_SCHEMA_INVALID": "a record (a JSON document or a JSONL line) does not satisfy its registry's schema",
    "E_NO_SCHEMA": "a file matches no registry artifact, or its registry has no schema",
    "E_SCHEMA_NOT_FOUND": "a schema named in the configuration or on the command line does not exist",
    "E_SCHEMA_MALFORMED": "a schema file is not valid JSON or not a valid JSON Schema",
    "E_SCHEMA_REF": "a schema's $ref points outside the built-in schemas and the workspace's schemas/ (never fetched)",
    # governance books
    "E_GOVERNANCE_MISSING": "a governance document does not exist (govern init writes a starting set)",
    "E_GOVERNANCE_INVALID": "a governance document is not valid JSON, fails its schema, or its version history is inconsistent",
    "E_GOVERNANCE_MISMATCH": "a derived governance figure, delta or record disagrees with what the books give",
    "E_GOVERNANCE_FROZEN": "a command would modify a frozen governance document; nothing was written",
    "E_GOVERNANCE_NOT_FROZEN": "an addendum needs a frozen registry catalog; registries go into the catalog itself until it is frozen",
    "E_OP_EXISTS": "the operation id is already in the catalog or has a matrix row (or two plugins declare it)",
    "E_OP_INVALID": "a malformed op id, an empty title, no executable, or an executable listed twice",
    "E_UNKNOWN_LEVEL": "a coverage level the enforcement coverage matrix does not define",
    "E_UNKNOWN_ENFORCEMENT": "an enforcement point the enforcement coverage matrix does not define",
    "E_LEVEL_UNMET": "the enforcement points do not meet every requirement of the coverage level",
    "E_MATRIX_ORPHAN_ROW": "a coverage matrix row for an operation that is not in the catalog",
    "E_MATRIX_ROW_MISSING": "a catalogued operation without a row in the coverage matrix",
    "E_OP_UNKNOWN": "`governance remove-op` named an operation that is neither in the catalog nor in the matrix",
    "E_OP_IN_USE": "`governance remove-op` named an operation a plugin declares or sealed runs were made by",
    "E_OP_UNCATALOGUED": "a sealed run was made by an operation that is not in the allowed-operations catalog",
    "E_REGISTRY_UNCATALOGUED": "a configured registry is absent from the registry catalog and its addenda",
}


# A dataclass, not attrs: this module is imported by every command, `--help` included, and
# attrs costs ~15 ms to import (issue 7's start-up target).
@dataclass(frozen=True, slots=True)
class Problem:
    """One thing a check found wrong: a stable code, where, and what."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.where}: {self.message}"


def problem_json(problem: Problem) -> dict[str, str]:
    """The JSON form of a problem in every ``--json`` document: ``{"code", "where", "message"}``."""
    return {"code": problem.code, "where": problem.where, "message": problem.message}


class GovernError(Exception):
    """A failure with a stable code, a one-line message and the exit code it maps to.

    Raised anywhere below the CLI; the CLI prints it as ``govern: error: …`` (or as JSON) and
    exits with :attr:`exit_code`. ``problems`` carries every individual finding when one
    refusal has several reasons (bagit-python style: one error, the full list).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        exit_code: ExitCode = ExitCode.USAGE,
        problems: tuple[Problem, ...] = (),
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"undocumented error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = exit_code
        self.problems = problems

    def __str__(self) -> str:
        return self.message
