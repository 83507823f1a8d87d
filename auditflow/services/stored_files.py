"""Stored files no row refers to: what a crash between storing a file and committing its
row leaves behind (in the folder or the object store), found and removed on request.

Only files older than the given age are candidates, so a file whose row is being committed
right now (stored a moment before its commit, ``storage.transactional``) is never one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import select

from auditflow.extensions import db
from auditflow.models import Evidence, IssuedReportFile, ReportJob
from auditflow.storage.transactional import file_store

_BATCH = 500


def unreferenced(older_than_seconds: float, now: float | None = None) -> list[str]:
    """Keys of stored files older than that which no evidence, issued file or job names."""
    cutoff = (time.time() if now is None else now) - older_than_seconds
    old = sorted(key for key, stored in file_store().listing() if stored < cutoff)
    named: set[str] = set()
    for start in range(0, len(old), _BATCH):
        batch = old[start:start + _BATCH]
        for column in (Evidence.storage_key, IssuedReportFile.storage_key, ReportJob.file_key):
            named.update(key for key in db.session.scalars(select(column).where(column.in_(batch)))
                         if key is not None)
    return [key for key in old if key not in named]


def remove(keys: Iterable[str]) -> int:
    """Remove the stored files of ``keys`` (no row names them); how many."""
    store = file_store()
    count = 0
    for key in keys:
        store.remove(key)
        count += 1
    return count
