"""Atomic, streaming storage of uploaded files: temp files on this machine, and the folder store.

Intended sequence in a service (file and database row exist together or not
at all)::

    stored, tmp = store.save(upload.stream, max_bytes=limit)   # FileTooLarge
    try:
        kind = sniff(tmp)                                        # RejectedFile
        db.session.add(Evidence(key=stored.key, sha256=stored.sha256, ...))
        db.session.flush()
        final = store.commit(tmp, stored.key)  # bytes become visible here
    except BaseException:
        store.discard(tmp)                     # no-op once committed
        raise
    try:
        db.session.commit()
    except BaseException:
        store.remove(stored.key)               # undo the move
        raise

Layout: ``root/tmp/`` holds uploads in progress (same file system as the
final place, so :func:`os.replace` is atomic); committed files live at
``root/<key[:2]>/<key>``. Keys are 32 lowercase hex characters from
:func:`secrets.token_hex`; no user-supplied text ever reaches a path.

:class:`TempFiles` is the part every store shares (an upload always lands on this
machine's disk first, where it is checked); :class:`LocalFolderStore` keeps committed
files in the folder (``FileStore`` is its old name), :class:`~auditflow.storage.s3.S3Store`
in an object store.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from auditflow.errors import DomainError

from .backend import KEY_BYTES, StoredFile, check_key, is_key
from .sniff import RejectedFile

__all__ = ["CHUNK_SIZE", "FileStore", "FileTooLarge", "KEY_BYTES", "LocalFolderStore",
           "StorageFull", "StoredFile", "TempFiles", "file_sha256"]

CHUNK_SIZE = 64 * 1024


def file_sha256(stream: BinaryIO) -> str:
    """SHA-256 of what is left to read in ``stream``, read in chunks."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
    return digest.hexdigest()


def _format_limit(limit: int) -> str:
    mib = limit / (1024 * 1024)
    if mib >= 1:
        return f"{round(mib, 1):g}MB"
    return f"{max(1, math.ceil(limit / 1024))}KB"


class FileTooLarge(RejectedFile):
    """The upload exceeded ``limit`` bytes.

    A :class:`RejectedFile`, so an upload view can handle every refusal with
    one ``except RejectedFile`` clause.
    """

    code = "file_too_large"

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            "file_too_large",
            f"파일이 너무 큽니다. {_format_limit(limit)} 이하의 파일만 올릴 수 있습니다.",
            f"more than {limit} bytes",
        )


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageFull(DomainError):
    """The storage disk (or the quota) is full: nothing was stored."""

    code = "storage_full"
    status = 507
    message = (
        "저장 공간이 부족하여 파일을 저장하지 못했습니다. 아무것도 저장되지 않았습니다. "
        "잠시 후 다시 시도하시고, 계속되면 시스템 관리자에게 알려 주세요."
    )


def full_disk(exc: OSError) -> bool:
    return exc.errno in _FULL


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` (os.write may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); silently skipped where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class TempFiles:
    """What both stores share: uploads in progress as temp files in ``tmp_dir`` on this
    machine's disk, and the reading their own ``open`` and ``listing`` give."""

    def __init__(self, tmp_dir: str | os.PathLike[str]):
        self.tmp_dir = Path(tmp_dir).resolve()
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    # -- reading, from the store's own open and listing ------------------------

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def listing(self) -> Iterator[tuple[str, float]]:
        raise NotImplementedError

    def sha256(self, key: str) -> str:
        with self.open(key) as stream:
            return file_sha256(stream)

    def keys(self) -> Iterator[str]:
        return (key for key, _stored in self.listing())

    # -- writing -------------------------------------------------------------

    def save(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[StoredFile, Path]:
        """Copy *stream* into a temp file under ``root/tmp`` in 64 KiB chunks.

        Returns the :class:`StoredFile` (random key, size, sha256) and the
        temp path. Nothing is visible under the key until :meth:`commit`.
        Raises :class:`FileTooLarge` (temp file removed) past *max_bytes*,
        :class:`StorageFull` (a DomainError, 507; temp file removed) when the
        disk or the quota is full; any other error while reading also removes
        the temp file.
        """
        try:
            fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-", suffix=".part")
        except OSError as exc:
            if full_disk(exc):
                raise StorageFull() from exc
            raise
        temp_path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            try:
                while True:
                    chunk = stream.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise FileTooLarge(max_bytes)
                    digest.update(chunk)
                    _write_all(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            temp_path.unlink(missing_ok=True)
            if full_disk(exc):
                raise StorageFull() from exc
            raise
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        stored = StoredFile(key=secrets.token_hex(KEY_BYTES), size=size, sha256=digest.hexdigest())
        return stored, temp_path

    def discard(self, temp_path: Path) -> None:
        """Remove a temp file from :meth:`save`; missing is fine (e.g. after commit)."""
        self._temp(temp_path).unlink(missing_ok=True)

    def sweep(self, older_than_seconds: float, now: float | None = None) -> list[str]:
        """Remove temp files a crashed process left behind; return their paths.

        A temp file lives only for one request or one command, so anything older
        than ``older_than_seconds`` belongs to no running transaction.
        """
        now = time.time() if now is None else now
        removed = []
        for temp in self.tmp_dir.glob("*.part"):
            try:
                if now - temp.stat().st_mtime > older_than_seconds:
                    temp.unlink()
                    removed.append(str(temp))
            except FileNotFoundError:  # finished or removed meanwhile
                continue
        return removed

    # -- helpers -------------------------------------------------------------

    def _temp(self, temp_path: str | os.PathLike[str]) -> Path:
        """Refuse to move or delete anything outside ``root/tmp``."""
        p = Path(temp_path)
        if p.resolve().parent != self.tmp_dir:
            raise ValueError(f"not a temp file of this store: {temp_path}")
        return p


class LocalFolderStore(TempFiles):
    """Committed files in a folder: ``root/<key[:2]>/<key>``, temp files in ``root/tmp``."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        super().__init__(self.root / "tmp")

    # -- writing -------------------------------------------------------------

    def commit(self, temp_path: Path, key: str) -> Path:
        """Atomically move a saved temp file to its final place; return that path."""
        temp_path = self._temp(temp_path)
        final = self.path(key)
        try:
            final.parent.mkdir(exist_ok=True)
        except OSError as exc:  # a new directory needs a block
            if full_disk(exc):
                raise StorageFull() from exc
            raise
        if final.exists():
            raise FileExistsError(f"storage key already in use: {key}")
        os.replace(temp_path, final)
        _fsync_dir(final.parent)
        return final

    def remove(self, key: str) -> None:
        """Remove a committed file (undo after a failed database commit)."""
        self.path(key).unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------

    def path(self, key: str) -> Path:
        key = check_key(key)
        return self.root / key[:2] / key

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def listing(self) -> Iterator[tuple[str, float]]:
        for path in self.root.glob("??/*"):
            if path.parent.name == path.name[:2] and is_key(path.name):
                try:
                    yield path.name, path.stat().st_mtime
                except FileNotFoundError:  # removed meanwhile
                    continue

    def local_path(self, key: str) -> Path:
        return self.path(key)


FileStore = LocalFolderStore  # the name it had while it was the only store
