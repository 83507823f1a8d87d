"""Comments between the audit team and the assigned teams on one recommendation."""

from __future__ import annotations

from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.models import Comment, Recommendation, User, utcnow
from auditflow.services import notifications
from auditflow.services.limits import COMMENT_MAX, bounded


def add(recommendation: Recommendation, actor: User, body: str) -> Comment:
    if not recommendation.can_comment(actor):
        raise Forbidden("의견은 감사팀과 지정된 부서만 남길 수 있습니다.", code="comment_not_allowed")
    text = (body or "").strip()
    if not text:
        raise DomainError("의견을 입력하세요.", code="comment_required")
    bounded(text, COMMENT_MAX, label="의견", field="body")
    comment = Comment(recommendation_id=recommendation.id, author=actor, body=text,
                      created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    notifications.commented(recommendation, comment)
    return comment
