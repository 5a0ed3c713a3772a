"""Reading one bag: validated by bagit-python (completeness and fixity), then its logical state.

A bag read is a :class:`BagReading`: the entries (payload paths ``data/...`` exactly as the
manifest writes them, but for RFC 8493's three escapes, and every tag file as
``tags/<path>``, each to the SHA-256 of its bytes), the pin, the problem that makes it invalid
(None when it validates), bagit-python's warnings, and its bag-info tags.

SHA-256 comes from the bag's own ``manifest-sha256.txt`` when it has one (bagit-python has just
checked every file against it); otherwise it is computed from the payload files — never
inferred from md5 or sha1, which two different files can share. Tag files are always hashed
(they are few and small).

The pin (docs/registry-kinds.md, "bagit"): ``sha256:`` of ``tagmanifest-sha256.txt``'s bytes
when the bag has one (it fixes bagit.txt, bag-info.txt and every payload manifest), else of
the bag's payload manifest files (``manifest-<alg>.txt``) concatenated in name order.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from govern.format.bagit import PAYLOAD_DIR, bagit_txt_problem, parse_manifest_lines

#: Read files in blocks of this size when hashing.
_BLOCK = 1 << 20


@attrs.frozen
class BagReading:
    """What reading one bag found (see the module's doc)."""

    entries: dict[str, str]
    pin: str
    problem: str | None
    warnings: tuple[str, ...]
    info: dict[str, str]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, lower-case hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class _Collect(logging.Handler):
    """Collects the warnings bagit-python logs (it has no other way to say them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _bagit_warnings() -> Iterator[list[str]]:
    """bagit-python's warnings while the block runs, kept from stderr (govern shows them, named by bag)."""
    logger = logging.getLogger("bagit")
    handler = _Collect()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _relative_messages(text: str, bag_dir: Path, name: str) -> str:
    """bagit-python's message with the bag's absolute path left out (the message is prefixed
    with the bag's name)."""
    return text.replace(str(bag_dir) + os.sep, "").replace(str(bag_dir) + ": ", "").replace(str(bag_dir), name)


def read_bag(bag_dir: Path, name: str) -> BagReading:
    """Validate the bag at ``bag_dir`` with bagit-python and read its state (``name`` is how
    problems and warnings name it)."""
    import bagit

    with _bagit_warnings() as warnings:
        problem = None
        bag = None
        try:
            bag = bagit.Bag(str(bag_dir))
            problem = bagit_txt_problem((bag_dir / "bagit.txt").read_bytes())
            if problem is None:
                bag.validate(processes=1)
        except bagit.BagValidationError as exc:
            details = "; ".join(str(d) for d in exc.details) if exc.details else ""
            problem = str(exc) if not details or details in str(exc) else f"{exc}: {details}"
        except bagit.BagError as exc:
            problem = str(exc)
        except (OSError, UnicodeError, ValueError, LookupError) as exc:
            # Malformed input bagit-python does not turn into a BagError: an unreadable file,
            # bytes not in the declared encoding, an encoding Python does not know.
            problem = f"unreadable: {exc}"
    info = {str(k): v[0] if isinstance(v, list) and v else str(v) for k, v in (bag.info if bag is not None else {}).items()}
    entries: dict[str, str] = {}
    if problem is None and bag is not None:
        try:
            entries = _entries(bag_dir, bag, warnings)
        except (OSError, UnicodeError, ValueError, LookupError) as exc:
            problem = f"unreadable: {exc}"
    named_problem = None if problem is None else f"bag {name}: {_relative_messages(problem, bag_dir, name)}"
    return BagReading(
        entries=entries,
        pin=_pin(bag_dir),
        problem=named_problem,
        warnings=tuple(_relative_messages(w, bag_dir, name) for w in warnings),
        info=info,
    )


def _entries(bag_dir: Path, bag: object, notes: list[str]) -> dict[str, str]:
    """Payload paths (from the manifests, exactly) and tag files to SHA-256; notes on the
    manifests' notation are added to ``notes``. ValueError when a listed file is not there."""
    encoding = getattr(bag, "encoding", "utf-8")
    escapes_percent = tuple(getattr(bag, "version_info", (1, 0))) >= (1, 0)
    sha256_manifest = bag_dir / "manifest-sha256.txt"
    manifests = [sha256_manifest] if sha256_manifest.is_file() else sorted(bag_dir.glob("manifest-*.txt"))
    entries: dict[str, str] = {}
    for manifest in manifests:
        lines = parse_manifest_lines(_tag_text(manifest, encoding), escapes_percent)
        notes.extend(f"{manifest.name} {note}" for note in lines.notes)
        for path, digest in lines.pairs:
            if not (bag_dir / path).is_file():
                raise ValueError(f"{manifest.name} lists {path!r}, which is not a file of the bag")
            if manifest == sha256_manifest:
                entries[path] = digest
            elif path not in entries:
                entries[path] = file_sha256(bag_dir / path)
    for tag_path in _tag_files(bag_dir):
        entries[f"tags/{tag_path}"] = file_sha256(bag_dir / tag_path)
    return entries


def _tag_text(path: Path, encoding: str) -> str:
    """A tag file's text in the bag's declared encoding, a byte-order mark dropped (Python's
    ``utf-16`` codec drops its own)."""
    return path.read_bytes().decode(encoding).removeprefix("\ufeff")


def _tag_files(bag_dir: Path) -> list[str]:
    """Every file of the bag outside ``data/`` (bagit.txt, bag-info.txt, the manifests, tag
    folders), as POSIX paths relative to the bag, sorted."""
    found: list[str] = []
    for folder, dirs, files in os.walk(bag_dir):
        relative = Path(folder).relative_to(bag_dir)
        if relative == Path("."):
            dirs[:] = [d for d in dirs if d != PAYLOAD_DIR]
        found.extend((relative / name).as_posix() for name in files)
    return sorted(found)


def _pin(bag_dir: Path) -> str:
    """``sha256:`` of tagmanifest-sha256.txt, else of the payload manifests concatenated in
    name order (the module's doc); of nothing at all for a folder with neither."""
    tag_manifest = bag_dir / "tagmanifest-sha256.txt"
    digest = hashlib.sha256()
    try:
        if tag_manifest.is_file():
            digest.update(tag_manifest.read_bytes())
        else:
            for manifest in sorted(bag_dir.glob("manifest-*.txt")):
                digest.update(manifest.read_bytes())
    except OSError:
        pass
    return f"sha256:{digest.hexdigest()}"
