"""OCFL validation through ocfl-py's validator API, in this process: one
:class:`ocfl.Validator` for every object govern reads (it is built to validate many objects in
turn, ``initialize`` between them), with a fresh log per object so each object's codes are its own.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import attrs

#: ``E040``, from ocfl-py's sub-codes such as ``E003a``.
_CODE = re.compile(r"[EW]\d{3}")
#: ocfl-py's message prefix ``[E040] `` and its trailing link to the spec.
_PREFIX = re.compile(r"^\[[^\]]*\]\s*")
_SPEC_LINK = re.compile(r"\s*\(see https://ocfl\.io/[^)]*\)$")


@attrs.frozen
class ObjectValidation:
    """What the validator found in one object: error codes (spec codes, in the order found,
    each once) with the message of each, and its warnings as ``"W004: <message>"``."""

    errors: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """True when the object has no error (warnings allowed)."""
        return not self.errors

    def problem(self) -> str | None:
        """``"E040: <message>"`` of the first error, and the other codes found (every problem
        is reported, not only the first); None when valid."""
        if not self.errors:
            return None
        (code, message), *others = self.errors
        also = f" (also {', '.join(other for other, _ in others)})" if others else ""
        return f"{code}: {message}{also}"


_lock = threading.Lock()
_validator: Any = None


def _shared_validator() -> Any:
    """The one validator of this process (ocfl-py imported on first use)."""
    global _validator
    if _validator is None:
        from ocfl.validator import Validator

        _validator = Validator(log_warnings=True, check_digests=True)
    return _validator


def _spec_codes(logged: dict[str, str], severity: str) -> list[tuple[str, str]]:
    """``(spec code, message)`` for each logged code of ``severity`` (``E`` or ``W``), each spec code once."""
    found: dict[str, str] = {}
    for code, message in logged.items():
        match = _CODE.match(code)
        if match and code.startswith(severity) and match.group(0) not in found:
            found[match.group(0)] = _SPEC_LINK.sub("", _PREFIX.sub("", message))
    return list(found.items())


def validate_object(path: Path) -> ObjectValidation:
    """Validate the OCFL object at ``path`` (every content file's digest checked)."""
    from ocfl.validation_logger import ValidationLogger

    with _lock:  # the validator holds the object it is validating
        validator = _shared_validator()
        validator.log = ValidationLogger(log_warnings=True, log_errors=True)
        validator.validate_object(str(path))
        logged = dict(validator.log.codes)
    return ObjectValidation(tuple(_spec_codes(logged, "E")), tuple(f"{code}: {message}" for code, message in _spec_codes(logged, "W")))
