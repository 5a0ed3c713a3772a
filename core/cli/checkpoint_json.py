"""How a checkpoint is shown: one JSON shape and one text line for every command that prints one."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from govern.format.checkpoint import Checkpoint

#: What an unsigned checkpoint's line says, so the operator knows why no one can verify it.
UNSIGNED = "unsigned (no --key, no GOVERN_SIGNING_KEY)"


def checkpoint_json(checkpoint: Checkpoint, signed_by: list[str]) -> dict[str, Any]:
    """``{"origin", "size", "root" (base64), "signed_by": [key names]}`` (the agreed shape of issue 14)."""
    return {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root_hash).decode("ascii"),
        "signed_by": list(signed_by),
    }


def checkpoint_line(checkpoint: Checkpoint, signed_by: list[str]) -> str:
    """``checkpoint ORIGIN size N root B64: signed by NAME`` (or unsigned, said so)."""
    root = base64.b64encode(checkpoint.root_hash).decode("ascii")
    signed = f"signed by {', '.join(signed_by)}" if signed_by else UNSIGNED
    return f"checkpoint {checkpoint.origin} size {checkpoint.size} root {root}: {signed}"
