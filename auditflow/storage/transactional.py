"""Stored files that follow the database transaction.

A file written through :class:`~auditflow.storage.FileStore` waits as a temp
file until the session's transaction ends; ``follow_transaction`` ties it to
that transaction (or savepoint):

* ``before_commit`` of the outermost transaction moves each temp file to its
  key. Moving *before* the database commit means the worst a crash between the
  two can leave is a file no row refers to (harmless garbage), never a row
  whose file is missing (a broken download).
* a rollback (of the whole transaction, or of the savepoint the file was
  stored in) deletes the temp file, or the moved file if the database commit
  itself failed after the move;
* a transaction that just ends (session closed without commit) does the same.

The other way round, ``remove_after_commit`` removes a file whose row a transaction
deletes only once that transaction has committed: a rollback keeps both.

Evidence uploads and issued reports both store their files this way, in the folder or
in the object store alike (for the object store "moves" is "uploads", "deletes" is
"deletes the object").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from auditflow.storage.backend import Storage
from auditflow.storage.files import LocalFolderStore

_PENDING_KEY = "auditflow.pending_files"
_DOOMED_KEY = "auditflow.doomed_files"
_log = logging.getLogger(__name__)


def file_store() -> Storage:
    """The application's file store (one per app, made on first use): the folder
    STORAGE_DIR, or the object store of STORAGE_URL with its temp files in STORAGE_DIR."""
    store: Storage | None = current_app.extensions.get("auditflow.file_store")
    if store is None:
        store = make_store(current_app.config)
        current_app.extensions["auditflow.file_store"] = store
    return store


def make_store(config: Mapping[str, Any]) -> Storage:
    url = config.get("STORAGE_URL")
    if not url:
        return LocalFolderStore(config["STORAGE_DIR"])
    from auditflow.storage.s3 import S3Store, parse_url

    bucket, prefix = parse_url(str(url))
    return S3Store(bucket, prefix, Path(config["STORAGE_DIR"]) / "tmp",
                   endpoint_url=config.get("S3_ENDPOINT_URL"),
                   access_key_id=config.get("S3_ACCESS_KEY_ID"),
                   secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
                   region=config.get("S3_REGION"))


def follow_transaction(session: Session, store: Storage, temp: Path, key: str) -> None:
    """Move ``temp`` to ``key`` when the current transaction commits; remove it if it does not.

    Call it after the row that names ``key`` has been flushed.
    """
    _pending(session).append(_PendingFile(store, temp, key, _current_transaction(session)))


def remove_after_commit(session: Session, store: Storage, key: str) -> None:
    """Remove the stored file of ``key`` once the current transaction has committed (the
    row that named it deleted); kept when it rolls back, so no row loses its file."""
    if session.get_transaction() is None:
        session.begin()
    doomed: list[tuple[Storage, str, SessionTransaction]] = session.info.setdefault(
        _DOOMED_KEY, [])
    doomed.append((store, key, _current_transaction(session)))


@dataclass
class _PendingFile:
    store: Storage
    temp: Path
    key: str
    transaction: SessionTransaction  # the (sub)transaction the row was flushed in
    moved: bool = field(default=False)

    def undo(self) -> None:
        if self.moved:
            self.store.remove(self.key)
        else:
            self.store.discard(self.temp)


def _pending(session: Session) -> list[_PendingFile]:
    pending: list[_PendingFile] = session.info.setdefault(_PENDING_KEY, [])
    return pending


def _current_transaction(session: Session) -> SessionTransaction:
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None  # a flush has just happened
    return transaction


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _undo(session: Session, ended: SessionTransaction | None = None) -> None:
    """Undo the files of ``ended`` and its savepoints (all files when None)."""
    doomed = session.info.get(_DOOMED_KEY)
    if doomed:  # removals not to be done after all
        session.info[_DOOMED_KEY] = [item for item in doomed
                                     if ended is not None and not _within(item[2], ended)]
    pending = session.info.get(_PENDING_KEY)
    if not pending:
        return
    keep = []
    for item in pending:
        if ended is None or _within(item.transaction, ended):
            try:
                item.undo()
            except OSError:
                _log.exception("could not remove stored file %s", item.key)
        else:
            keep.append(item)
    session.info[_PENDING_KEY] = keep


@event.listens_for(Session, "before_commit")
def _move_files_before_commit(session: Session) -> None:
    # A savepoint release also fires this; files move only with the real commit.
    if session.in_nested_transaction():
        return
    for item in session.info.get(_PENDING_KEY, ()):
        if not item.moved:
            item.store.commit(item.temp, item.key)  # an error here aborts the commit
            item.moved = True


@event.listens_for(Session, "after_commit")
def _forget_files_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING_KEY, None)
    for store, key, _transaction in session.info.pop(_DOOMED_KEY, ()):
        try:
            store.remove(key)
        except OSError:  # the row is gone already: the file is garbage, not a broken link
            _log.exception("could not remove stored file %s after commit", key)


@event.listens_for(Session, "after_soft_rollback")
def _undo_files_after_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:
        _undo(session)
    elif previous.nested:
        _undo(session, previous)


@event.listens_for(Session, "after_transaction_end")
def _undo_files_left_behind(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without commit or rollback (session closed).
    if transaction.parent is None:
        _undo(session)
