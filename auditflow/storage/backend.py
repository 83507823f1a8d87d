"""What the application asks of a place that keeps stored files.

Two implementations: :class:`~auditflow.storage.files.LocalFolderStore` (a folder,
the default) and :class:`~auditflow.storage.s3.S3Store` (an S3-compatible object
store, for several machines). Both receive an upload the same way: streamed into a
temp file on this machine's disk (``tmp_dir``), where the content checks (sniffing,
inspection) read it, and made visible under its key by :meth:`Storage.commit` --
which :mod:`.transactional` calls just before the database commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["KEY_BYTES", "Storage", "StorageUnavailable", "StoredFile", "check_key", "is_key"]

KEY_BYTES = 16
_KEY_RE = re.compile(rf"[0-9a-f]{{{KEY_BYTES * 2}}}")


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class StorageUnavailable(OSError):
    """The object store could not be reached or refused the request.

    An ``OSError``, like a failing disk, so that every caller that copes with a failing
    folder (the transaction's undo, the integrity check) copes with it too.
    """


def is_key(name: object) -> bool:
    """Whether ``name`` is a key :meth:`Storage.save` gives: 32 lowercase hex characters."""
    return isinstance(name, str) and _KEY_RE.fullmatch(name) is not None


def check_key(key: str) -> str:
    """Refuse anything but the 32 lowercase hex characters :meth:`Storage.save` gives."""
    if not is_key(key):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    """The operations the application uses; keys are checked with :func:`check_key`."""

    #: This machine's folder of temp files (uploads in progress, scratch files of writers).
    tmp_dir: Path

    def save(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[StoredFile, Path]:
        """Stream into a temp file: its new key, size and sha256, and the temp path."""

    def commit(self, temp_path: Path, key: str) -> object:
        """Make a saved temp file visible under ``key`` (the temp file is gone after)."""

    def discard(self, temp_path: Path) -> None:
        """Remove a temp file of :meth:`save`; missing is fine."""

    def remove(self, key: str) -> None:
        """Remove a committed file; missing is fine."""

    def sweep(self, older_than_seconds: float, now: float | None = None) -> list[str]:
        """Remove what a crashed process left behind (older than that); say what."""

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO:
        """The committed bytes, streamed; ``FileNotFoundError`` when missing."""

    def size(self, key: str) -> int:
        """``FileNotFoundError`` when missing."""

    def sha256(self, key: str) -> str:
        """The committed bytes' SHA-256 (read through); ``FileNotFoundError`` when missing."""

    def keys(self) -> Iterator[str]:
        """Every committed key (for checks and backups), in no particular order."""

    def listing(self) -> Iterator[tuple[str, float]]:
        """Every committed key with when it was stored (seconds since the epoch)."""

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk when there is one (a folder), else None."""
