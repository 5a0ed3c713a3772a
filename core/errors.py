"""Exit codes, stable error codes and the exception that carries them.

Every failure govern reports has a stable code (``E_…``) documented in ``docs/errors.md``.
:data:`ERROR_CODES` is the one table of codes, each with its exit code and summary; a test keeps
that page and the table in step, and another that every raise site names a code of the table
and none picks an exit code. Codes are for machines and for
searching the docs; the message beside them is for people and names the file, key, run or path.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class ExitCode(enum.IntEnum):
    """Process exit codes (docs/errors.md, "How errors are shown")."""

    OK = 0
    #: A check ran and found problems (tamper, schema-invalid, conflict, stale).
    PROBLEMS = 1
    #: Usage, configuration or input error: nothing was done.
    USAGE = 2
    #: The workspace is locked by another govern process.
    LOCKED = 3
    #: Another build committed the delta log's next head first (a lost commit race).
    RACE_LOST = 3
    #: Interrupted (SIGINT or SIGTERM): 128 + SIGINT, as shells report a Ctrl-C.
    INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One stable error code: the exit code it stops a command with, and a one-line summary.

    ``sealing_refusal`` marks the codes sealing refuses a run with (exit 2) that ``govern
    verify`` also *finds* in a sealed run: a finding makes a check exit 1 whatever its code
    (docs/errors.md, "Exit code per code"), so their table row reads "2 seal · 1 verify".
    """

    code: str
    exit_code: ExitCode
    summary: str
    sealing_refusal: bool = False


def _by_code(*entries: ErrorCode) -> Mapping[str, ErrorCode]:
    """The read-only table of ``entries`` by code; a code listed twice is a bug here."""
    table = {entry.code: entry for entry in entries}
    if len(table) != len(entries):
        raise ValueError("an error code is listed twice in ERROR_CODES")
    return MappingProxyType(table)


#: Every error code govern emits: the one place its exit code is chosen (the docs page
#: expands on each; tests/test_docs.py keeps that page's table and this one in step).
ERROR_CODES: Mapping[str, ErrorCode] = _by_code(
    # usage, configuration, input
    ErrorCode("E_USAGE", ExitCode.USAGE, "the command line is wrong (unknown option, missing argument)"),
    ErrorCode("E_INTERNAL", ExitCode.USAGE, "a bug in govern or a plugin (rerun with -v for the traceback and report it)"),
    ErrorCode("E_WORKSPACE_NOT_FOUND", ExitCode.USAGE, "no registry_config.toml in the given directory or any parent"),
    ErrorCode("E_WORKSPACE_EXISTS", ExitCode.USAGE, "`govern init` refused to overwrite an existing workspace"),
    ErrorCode("E_CONFIG_SYNTAX", ExitCode.USAGE, "registry_config.toml is not valid TOML"),
    ErrorCode("E_CONFIG_INVALID", ExitCode.USAGE, "registry_config.toml has an unknown key, a missing key or a wrong type"),
    ErrorCode("E_CONFIG_UNKNOWN_KIND", ExitCode.USAGE, "a registry's kind is not handled by any installed plugin"),
    ErrorCode("E_RUNS_ROOT_MISSING", ExitCode.USAGE, "the configured runs root (workspace.runs_root) does not exist"),
    ErrorCode("E_STORE_UNREACHABLE", ExitCode.USAGE, "the object store cannot be reached, refuses the credentials, or its bucket does not exist"),
    ErrorCode("E_CLOCK_INVALID", ExitCode.USAGE, "--at or SOURCE_DATE_EPOCH is not a valid time"),
    ErrorCode("E_NOT_A_DIRECTORY", ExitCode.USAGE, "a path that must be a directory is not one"),
    ErrorCode("E_JSON_INVALID", ExitCode.USAGE, "a JSON or JSONL file is not strictly valid (syntax, duplicate key, NaN, depth, size, encoding)"),
    ErrorCode("E_IO", ExitCode.USAGE, "reading or writing a file failed (permission, disk full, I/O error)"),
    ErrorCode("E_LOCKED", ExitCode.LOCKED, "another govern process holds the workspace lock"),
    ErrorCode("E_INTERRUPTED", ExitCode.INTERRUPTED, "the command was interrupted (Ctrl-C, SIGTERM); exit 130, and nothing was written unless it says so"),
    ErrorCode("E_PLUGIN_FAILED", ExitCode.USAGE, "a plugin failed to load, failed validation, or raised inside a hook"),
    ErrorCode("E_REGISTRY_EXISTS", ExitCode.USAGE, "`govern registry add` named a registry id the configuration already has"),
    ErrorCode("E_PATH_OUTSIDE", ExitCode.USAGE, "a --path argument is an absolute path outside the workspace"),
    ErrorCode("E_REGISTRY_UNKNOWN", ExitCode.USAGE, "a command named a registry id the configuration does not have"),
    # sealing refusals
    ErrorCode("E_ALREADY_SEALED", ExitCode.USAGE, "the run already has a seal (check it with 'govern verify RUN'; --reseal only for a run the delta log never recorded)"),
    ErrorCode("E_RESEAL_REFUSED", ExitCode.PROBLEMS, "--reseal of a delta-log build, or of a snapshot the delta log records (it would rewrite history)"),
    ErrorCode("E_SYMLINK", ExitCode.USAGE, "a symbolic link inside a run (never followed)", sealing_refusal=True),
    ErrorCode("E_SPECIAL_FILE", ExitCode.USAGE, "a FIFO, socket or device inside a run", sealing_refusal=True),
    ErrorCode("E_UNSAFE_NAME", ExitCode.USAGE, "a file name with a backslash, NUL, CR or LF, or not valid UTF-8", sealing_refusal=True),
    ErrorCode("E_NAME_COLLISION", ExitCode.USAGE, "two names equal after NFC normalisation or after case-folding", sealing_refusal=True),
    ErrorCode("E_FILE_CHANGED", ExitCode.USAGE, "a file changed (size or mtime) while it was being hashed, or the tree changed while sealing", sealing_refusal=True),
    ErrorCode("E_FILE_UNREADABLE", ExitCode.USAGE, "a file could not be read", sealing_refusal=True),
    # verification
    ErrorCode("E_SEAL_MISSING", ExitCode.PROBLEMS, "the run has no MANIFEST.sha256 (not sealed, or sealing was interrupted)"),
    ErrorCode("E_SEAL_MALFORMED", ExitCode.PROBLEMS, "MANIFEST.sha256 is not exactly one line '<64 hex>  manifest.json'"),
    ErrorCode("E_SEAL_MISMATCH", ExitCode.PROBLEMS, "manifest.json does not hash to the value in MANIFEST.sha256"),
    ErrorCode("E_MANIFEST_MISSING", ExitCode.PROBLEMS, "the run has a seal but no manifest.json"),
    ErrorCode("E_MANIFEST_INVALID", ExitCode.PROBLEMS, "manifest.json is not a well-formed manifest"),
    ErrorCode("E_ALGORITHM_UNKNOWN", ExitCode.PROBLEMS, "the manifest names a digest algorithm other than sha256"),
    ErrorCode("E_RUN_ID_MISMATCH", ExitCode.PROBLEMS, "the manifest's run_id is not the run folder's name"),
    ErrorCode("E_UNSAFE_PATH", ExitCode.PROBLEMS, "a manifest path is absolute, has '..', empty or '.' parts, a backslash or control characters, or is not NFC"),
    ErrorCode("E_PATH_DUPLICATE", ExitCode.PROBLEMS, "a path is listed twice in the manifest"),
    ErrorCode("E_PATH_CONFLICT", ExitCode.PROBLEMS, "a path is listed both as a file and as a directory"),
    ErrorCode("E_MANIFEST_UNSORTED", ExitCode.PROBLEMS, "manifest entries are not sorted by path"),
    ErrorCode("E_DIGEST_MALFORMED", ExitCode.PROBLEMS, "a digest is not 64 lowercase hex characters"),
    ErrorCode("E_SIZE_MALFORMED", ExitCode.PROBLEMS, "a size is not a non-negative integer"),
    ErrorCode("E_FILE_MISSING", ExitCode.PROBLEMS, "a file listed in the manifest is not on disk"),
    ErrorCode("E_FILE_UNLISTED", ExitCode.PROBLEMS, "a file on disk is not listed in the manifest"),
    ErrorCode("E_SIZE_MISMATCH", ExitCode.PROBLEMS, "a file's size differs from the manifest"),
    ErrorCode("E_DIGEST_MISMATCH", ExitCode.PROBLEMS, "a file's SHA-256 differs from the manifest"),
    # delta log
    ErrorCode("E_COMMIT_RACE_LOST", ExitCode.RACE_LOST, "another build committed the delta log's next head first; this build was taken back"),
    ErrorCode("E_RUN_EXISTS", ExitCode.PROBLEMS, "a run folder of that name already exists; it is never overwritten"),
    ErrorCode("E_HISTORY_CONFLICT", ExitCode.PROBLEMS, "a recorded snapshot changed, a new snapshot is dated before the last recorded one, or the clock went backwards"),
    ErrorCode("E_SNAPSHOT_MISSING", ExitCode.PROBLEMS, "a snapshot the delta log records no longer exists, and no build acknowledged its loss"),
    ErrorCode("E_POLICY_VIOLATION", ExitCode.PROBLEMS, "a delta record breaks a policy of registry_config.toml (govern check; delta build --enforce writes nothing)"),
    ErrorCode("E_STRICT", ExitCode.PROBLEMS, "--strict: unsealed or late runs, or uncommitted build runs, were found (listed above)"),
    ErrorCode("E_SNAPSHOT_UNVERIFIED", ExitCode.PROBLEMS, "a snapshot's seal does not verify, or a new snapshot's artifact files differ from its manifest (rerun with --allow-unknown to record it as 'unknown')"),
    ErrorCode("E_RECORD_INVALID", ExitCode.USAGE, "a build planned a delta record that fails the record schema of its version; nothing written"),
    ErrorCode("E_BASIS_UNDECLARED", ExitCode.USAGE, "a plugin answered govern_delta_basis with a basis no plugin declares (govern_delta_bases); nothing written"),
    ErrorCode("E_LOG_TAMPERED", ExitCode.PROBLEMS, "a delta-log build's log or state differs from its seal, or an earlier build's log is not an exact prefix"),
    ErrorCode("E_LOG_TORN", ExitCode.PROBLEMS, "the delta log ends with an incomplete line (see 'govern repair --log')"),
    ErrorCode("E_LOG_INVALID", ExitCode.PROBLEMS, "a delta-log line is not a canonical, schema-valid record, or a registry's chain does not link"),
    ErrorCode("E_NOT_A_RUN", ExitCode.USAGE, "the directory is not a run folder (its name is not YYYY-MM-DD__HHMMSS__slug)"),
    ErrorCode("E_REPAIR_REFUSED", ExitCode.PROBLEMS, "'govern repair --log' found damage other than a torn tail it can prove by the seal; nothing changed"),
    # schema validation
    ErrorCode("E_SCHEMA_INVALID", ExitCode.PROBLEMS, "a record (a JSON document or a JSONL line) does not satisfy its registry's schema"),
    ErrorCode("E_NO_SCHEMA", ExitCode.USAGE, "a file matches no registry artifact, or its registry has no schema"),
    ErrorCode("E_SCHEMA_NOT_FOUND", ExitCode.USAGE, "a schema named in the configuration or on the command line does not exist"),
    ErrorCode("E_SCHEMA_MALFORMED", ExitCode.USAGE, "a schema file is not valid JSON or not a valid JSON Schema"),
    ErrorCode("E_SCHEMA_REF", ExitCode.USAGE, "a schema's $ref points outside the built-in schemas and the workspace's schemas/ (never fetched)"),
    # governance books
    ErrorCode("E_GOVERNANCE_MISSING", ExitCode.USAGE, "a governance document does not exist (govern init writes a starting set)"),
    ErrorCode("E_GOVERNANCE_INVALID", ExitCode.USAGE, "a governance document is not valid JSON, fails its schema, or its version history is inconsistent"),
    ErrorCode("E_GOVERNANCE_MISMATCH", ExitCode.PROBLEMS, "a derived governance figure, delta or record disagrees with what the books give"),
    ErrorCode("E_GOVERNANCE_FROZEN", ExitCode.USAGE, "a command would modify a frozen governance document; nothing was written"),
    ErrorCode("E_GOVERNANCE_NOT_FROZEN", ExitCode.USAGE, "an addendum needs a frozen registry catalog; registries go into the catalog itself until it is frozen"),
    ErrorCode("E_OP_EXISTS", ExitCode.USAGE, "the operation id is already in the catalog or has a matrix row (or two plugins declare it)"),
    ErrorCode("E_OP_INVALID", ExitCode.USAGE, "a malformed op id, an empty title, no executable, or an executable listed twice"),
    ErrorCode("E_UNKNOWN_LEVEL", ExitCode.USAGE, "a coverage level the enforcement coverage matrix does not define"),
    ErrorCode("E_UNKNOWN_ENFORCEMENT", ExitCode.USAGE, "an enforcement point the enforcement coverage matrix does not define"),
    ErrorCode("E_LEVEL_UNMET", ExitCode.USAGE, "the enforcement points do not meet every requirement of the coverage level"),
    ErrorCode("E_MATRIX_ORPHAN_ROW", ExitCode.PROBLEMS, "a coverage matrix row for an operation that is not in the catalog"),
    ErrorCode("E_MATRIX_ROW_MISSING", ExitCode.PROBLEMS, "a catalogued operation without a row in the coverage matrix"),
    ErrorCode("E_OP_UNKNOWN", ExitCode.USAGE, "`governance remove-op` named an operation that is neither in the catalog nor in the matrix"),
    ErrorCode("E_OP_IN_USE", ExitCode.USAGE, "`governance remove-op` named an operation a plugin declares or sealed runs were made by"),
    ErrorCode("E_OP_UNCATALOGUED", ExitCode.PROBLEMS, "a sealed run was made by an operation that is not in the allowed-operations catalog"),
    ErrorCode("E_REGISTRY_UNCATALOGUED", ExitCode.PROBLEMS, "a configured registry is absent from the registry catalog and its addenda"),
    # database tables (kind sql_table, docs/registry-kinds.md)
    ErrorCode("E_SQL_UNREACHABLE", ExitCode.USAGE, "a sql_table registry's database cannot be opened, reached or authenticated to"),
    ErrorCode("E_SQL_TABLE_MISSING", ExitCode.USAGE, "a sql_table registry's table does not exist in its database (or its query fails)"),
    ErrorCode("E_SQL_NO_KEY", ExitCode.USAGE, "a sql_table registry's table has no primary key and the registry configures no key = [...]"),
    ErrorCode("E_SQL_KEY_NOT_UNIQUE", ExitCode.PROBLEMS, "two rows of a sql_table registry share a key value; no snapshot was written"),
    ErrorCode("E_SQL_PASSWORD_IN_DSN", ExitCode.USAGE, "a sql_table registry's dsn holds a password (name the variable holding it in password_env)"),
    ErrorCode("E_OCFL_OBJECT_NOT_FOUND", ExitCode.USAGE, "an ocfl_object registry's path is not a folder, or its object_id is not under the storage root"),
    # git repositories (kind git, docs/registry-kinds.md)
    ErrorCode("E_GIT_UNREADABLE", ExitCode.USAGE, "a git registry's repository cannot be opened, its ref names no commit, or an object or path in its history cannot be read"),
    # transparency log (docs/transparency.md)
    ErrorCode("E_KEY_INVALID", ExitCode.USAGE, "a signer or verifier key (file or text) cannot be read or is not a valid note key"),
    ErrorCode("E_CHECKPOINT_INVALID", ExitCode.PROBLEMS, "a checkpoint is malformed, or no known key signed it validly (a known signer's bad signature rejects it)"),
    ErrorCode("E_LOG_DIVERGED", ExitCode.PROBLEMS, "the delta log is not an extension of a checkpoint handed out earlier (its tree at that size has another root, or it is shorter)"),
    ErrorCode("E_PROOF_INVALID", ExitCode.PROBLEMS, "an inclusion or consistency proof does not verify against its checkpoint"),
    ErrorCode("E_OUTPUT_EXISTS", ExitCode.USAGE, "an output file or folder (a key file, an export's folder) already exists; it is never overwritten"),
    ErrorCode("E_ATTESTATION_INVALID", ExitCode.PROBLEMS, "an attestation's DSSE signature does not verify, or its subjects no longer match the run's files"),
)


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
    exits with :attr:`exit_code`, which comes from the code's row of :data:`ERROR_CODES` —
    a raise site names the code, never the exit code. ``problems`` carries every individual
    finding when one refusal has several reasons (bagit-python style: one error, the full list).
    A code not in the table is refused here (a plugin has no codes of its own: its refusal
    uses one of govern's, and any other exception in a hook becomes ``E_PLUGIN_FAILED``).
    """

    def __init__(self, code: str, message: str, *, problems: tuple[Problem, ...] = ()) -> None:
        entry = ERROR_CODES.get(code)
        if entry is None:
            raise ValueError(f"undocumented error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = entry.exit_code
        self.problems = problems

    @classmethod
    def found(cls, code: str, message: str, *, problems: tuple[Problem, ...] = ()) -> GovernError:
        """A check's finding that stops a command: exit 1 (:attr:`ExitCode.PROBLEMS`) whatever
        the code stops a command with on its own.

        docs/errors.md ("Exit code per code"): a code a check *finds* makes it exit 1 — e.g.
        ``govern diff`` of a run whose seal check finds a symbolic link (``E_SYMLINK``, which
        refuses a seal with exit 2) exits 1, as ``govern verify`` of that run does.
        """
        error = cls(code, message, problems=problems)
        error.exit_code = ExitCode.PROBLEMS
        return error

    def __str__(self) -> str:
        return self.message
