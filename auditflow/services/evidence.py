"""Evidence files: upload (one or several at once) and delete.

A file and its ``Evidence`` row exist together or not at all. The bytes are
streamed to a temp file of the :class:`~auditflow.storage.FileStore`, checked
by their content, and the row is flushed; the bytes reach their final place
only as the database transaction commits, and vanish if it rolls back
(``auditflow.storage.transactional``).

Deleting evidence is a soft delete: the row is marked, the bytes stay, because
history is append-only and an earlier issued report may refer to the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.models import Evidence, History, Recommendation, User, utcnow
from auditflow.services.recommendations import flush
from auditflow.storage import (
    FileKind,
    FileTooLarge,
    RejectedFile,
    clean_filename,
    name_for,
    sniff,
)
from auditflow.storage.transactional import file_store, follow_transaction
from auditflow.vocabulary import Field, HistoryKind, State


@dataclass(frozen=True)
class Upload:
    """One file as the user sent it: its bytes and the name the browser gave."""

    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class Uploaded:
    evidence: Evidence
    note: str | None  # a warning for the uploader (e.g. an encrypted HWP), from the sniffer


class EvidenceRejected(DomainError):
    """One or more files of an upload were refused; none of them was stored."""

    code = "file_rejected"
    status = 400

    def __init__(self, refused: Sequence[tuple[str, RejectedFile]]) -> None:
        self.refused = list(refused)
        codes = {err.code for _, err in self.refused}
        too_large = any(isinstance(err, FileTooLarge) for _, err in self.refused)
        lines = [f"'{name}': {err.message}" for name, err in self.refused]
        if len(self.refused) == 1:
            message = f"{lines[0]} 파일을 저장하지 않았습니다."
        else:
            message = (
                f"다음 {len(self.refused)}개 파일을 올릴 수 없어 아무 파일도 저장하지 않았습니다. "
                + " ".join(lines)
            )
        super().__init__(
            message,
            code=codes.pop() if len(codes) == 1 else "files_rejected",
            status=413 if too_large else 400,
        )


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def max_expanded_bytes() -> int:
    """What the entries of one ZIP-based document (HWPX, DOCX, ...) may expand to."""
    return int(current_app.config["MAX_EXPANDED_MB"]) * 1024 * 1024


def check_may_change(recommendation: Recommendation, user: User, verb: str) -> None:
    """Refuse (403, Korean message) unless ``user`` may upload or delete evidence now."""
    if recommendation.can_change_evidence(user):
        return
    if recommendation.works_on(user):
        state = State(recommendation.state)
        raise Forbidden(
            f"'{state.label}' 상태에서는 증빙자료를 {verb} 수 없습니다. "
            "증빙자료는 검토 요청(제출) 전까지만 바꿀 수 있습니다.",
            code="evidence_locked",
        )
    raise Forbidden(
        f"증빙자료는 이 요구사항의 주관·협조 부서만 {verb} 수 있습니다.", code="evidence_forbidden"
    )


# ----------------------------------------------------------------- upload ---


def upload(recommendation: Recommendation, user: User, stream: Any, filename: str) -> Evidence:
    """Upload one file; see :func:`upload_many`."""
    return upload_many(recommendation, user, [Upload(_stream_of(stream), filename)])[0].evidence


def upload_many(recommendation: Recommendation, user: User,
                files: Sequence[Upload]) -> list[Uploaded]:
    """Check every file first; store all of them or, if any is refused, none.

    A file is kept under the name it came with, whose extension must fit what
    its bytes are (a name without one gets the kind's). Raises
    :class:`Forbidden` (not the item's team, or already submitted),
    :class:`EvidenceRejected` (status 413 when a file is over the limit, 400
    otherwise; its message names each refused file and what is allowed),
    :class:`~auditflow.storage.StorageFull` (507: the disk is full, nothing
    stored) or :class:`DomainError` for an empty or too large batch.
    """
    check_may_change(recommendation, user, "올릴")
    if not files:
        raise DomainError("올릴 파일을 선택하세요.", code="evidence_file_required")
    # One request may carry several files; past MAX_UPLOAD_FILES the user is asked to split
    # the upload (with the per-file size it bounds one request's body, MAX_CONTENT_LENGTH).
    most = int(current_app.config["MAX_UPLOAD_FILES"])
    if len(files) > most:
        raise DomainError(
            f"한 번에 {most}개까지 올릴 수 있습니다. 나누어 올려 주세요.",
            code="evidence_too_many_files",
        )

    store = file_store()
    limit = max_upload_bytes()
    expanded = max_expanded_bytes()
    staged: list[tuple[str, Any, Path, FileKind]] = []
    refused: list[tuple[str, RejectedFile]] = []
    try:
        for item in files:
            name = clean_filename(item.filename)
            try:
                stored, temp = store.save(item.stream, max_bytes=limit)
            except RejectedFile as err:  # FileTooLarge: the store removed its temp file
                refused.append((name, err))
                continue
            try:
                kind = sniff(temp, max_expanded=expanded)
                name = clean_filename(name_for(name, kind))
            except RejectedFile as err:
                store.discard(temp)
                refused.append((name, err))
                continue
            except BaseException:  # the request dies while reading it (a crash, a timeout)
                store.discard(temp)
                raise
            staged.append((name, stored, temp, kind))
        if refused:
            raise EvidenceRejected(refused)
        results = _insert(recommendation, user, staged)
    except BaseException:
        for _, _, temp, _ in staged:
            store.discard(temp)
        raise

    for _, stored, temp, _ in staged:
        follow_transaction(db.session(), store, temp, stored.key)
    return results


def _insert(recommendation: Recommendation, user: User,
            staged: Sequence[tuple[str, Any, Path, FileKind]]) -> list[Uploaded]:
    now = utcnow()
    next_version: dict[str, int] = {}
    results = []
    try:
        with db.session.no_autoflush:
            for name, stored, _temp, kind in staged:
                results.append(_insert_one(recommendation, user, name, stored, kind, now,
                                           next_version))
        _touch(recommendation, now)
        flush()
    except IntegrityError as exc:
        # Someone else stored the same name and version in the meantime.
        raise DomainError(
            "같은 이름의 파일을 다른 사용자가 동시에 올렸습니다. 다시 올려 주세요.",
            code="conflict",
            status=409,
        ) from exc
    return results


def _insert_one(recommendation: Recommendation, user: User, name: str, stored: Any,
                kind: FileKind, now: Any, next_version: dict[str, int]) -> Uploaded:
    if name not in next_version:
        # Deleted versions count too: a number is never given twice.
        highest = db.session.scalar(
            select(func.max(Evidence.version)).where(
                Evidence.recommendation_id == recommendation.id,
                Evidence.original_name == name,
            )
        )
        next_version[name] = (highest or 0) + 1
    version = next_version[name]
    next_version[name] = version + 1
    evidence = Evidence(
        recommendation=recommendation,
        original_name=name,
        version=version,
        storage_key=stored.key,
        size=stored.size,
        sha256=stored.sha256,
        content_type=kind.mime,
        uploaded_by=user,
        uploaded_at=now,
    )
    db.session.add(evidence)
    _record(recommendation, user, name, f"업로드 (v{version})", now)
    return Uploaded(evidence, kind.note)


def _stream_of(file: Any) -> BinaryIO:
    """A werkzeug ``FileStorage`` or any binary stream."""
    return cast(BinaryIO, getattr(file, "stream", file))


# ----------------------------------------------------------------- delete ---


def delete(evidence: Evidence, user: User) -> None:
    """Mark a file deleted (its team, before submission); the bytes stay."""
    recommendation = evidence.recommendation
    check_may_change(recommendation, user, "삭제할")
    if evidence.deleted_at is not None:
        raise DomainError("이미 삭제된 파일입니다.", code="evidence_already_deleted", status=409)
    now = utcnow()
    evidence.deleted_at = now
    evidence.deleted_by_id = user.id
    _record(recommendation, user, evidence.original_name, f"삭제 (v{evidence.version})", now)
    _touch(recommendation, now)
    flush()


# ----------------------------------------------------------------- shared ---


def _record(recommendation: Recommendation, user: User, name: str, comment: str, at: Any) -> None:
    db.session.add(
        History(
            recommendation=recommendation,
            at=at,
            actor=user,
            kind=HistoryKind.EVIDENCE.value,
            field=Field.EVIDENCE.value,
            new_value=name,
            comment=comment,
        )
    )


def _touch(recommendation: Recommendation, now: Any) -> None:
    # Evidence is part of the item: changing it bumps the item's version, so an
    # upload racing a submission (or another upload) fails as a conflict
    # instead of slipping in after the item was handed over for review.
    recommendation.updated_at = now
