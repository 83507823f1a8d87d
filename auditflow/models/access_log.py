from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auditflow.extensions import Model
from auditflow.models.base import AppendOnly, UTCDateTime, sql_in, utcnow
from auditflow.models.chain import Chained
from auditflow.models.user import User


class AccessKind(enum.StrEnum):
    """What an access record is about."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    ACCOUNT_LOCKED = "account_locked"
    SIGN_OUT = "sign_out"
    PASSWORD_CHANGED = "password_changed"
    ROLE_CHANGED = "role_changed"
    USER_CREATED = "user_created"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    PERMISSION_REFUSED = "permission_refused"
    EVIDENCE_DOWNLOAD = "evidence_download"
    REPORT_DOWNLOAD = "report_download"
    EXPORT = "export"

    @property
    def label(self) -> str:
        return ACCESS_LABELS[self]


ACCESS_LABELS = {
    AccessKind.SIGN_IN: "로그인",
    AccessKind.SIGN_IN_FAILED: "로그인 실패",
    AccessKind.ACCOUNT_LOCKED: "계정 잠금",
    AccessKind.SIGN_OUT: "로그아웃",
    AccessKind.PASSWORD_CHANGED: "비밀번호 변경",
    AccessKind.ROLE_CHANGED: "역할 변경",
    AccessKind.USER_CREATED: "사용자 등록",
    AccessKind.USER_DEACTIVATED: "사용 중지",
    AccessKind.USER_REACTIVATED: "사용 재개",
    AccessKind.TOKEN_CREATED: "API 토큰 발급",
    AccessKind.TOKEN_REVOKED: "API 토큰 폐기",
    AccessKind.PERMISSION_REFUSED: "권한 거부",
    AccessKind.EVIDENCE_DOWNLOAD: "증빙 내려받기",
    AccessKind.REPORT_DOWNLOAD: "보고서 내려받기",
    AccessKind.EXPORT: "목록 내보내기",
}


class AccessResult(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"

    @property
    def label(self) -> str:
        return "성공" if self is AccessResult.SUCCESS else "실패"


class AccessRecord(AppendOnly, Chained, Model):
    """One access record (접속기록): who, when, from which address, what, the result and the
    reason where one was asked. Append-only and hash-chained; only the retention purge
    removes the oldest (``services.access_log.purge``)."""

    __tablename__ = "access_log"
    append_only_message = "access records are never changed"
    chain_label = "접속기록"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(AccessKind)})", name="ck_access_log_kind"),
        CheckConstraint(f"result IN ({sql_in(AccessResult)})", name="ck_access_log_result"),
        Index("ix_access_log_at", "at"),
        Index("ix_access_log_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    login: Mapped[str | None] = mapped_column(String(64))  # as typed, for unknown logins
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(300))  # what was accessed or changed
    result: Mapped[str] = mapped_column(String(10), default=AccessResult.SUCCESS.value)
    detail: Mapped[str | None] = mapped_column(String(300))  # e.g. why it failed
    reason: Mapped[str | None] = mapped_column(Text)  # the reason the user gave

    user: Mapped[User | None] = relationship()

    @property
    def kind_enum(self) -> AccessKind:
        return AccessKind(self.kind)
