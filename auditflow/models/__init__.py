"""The domain model, one module per aggregate."""

from auditflow.models.audit import Audit
from auditflow.models.base import UTCDateTime, utcnow
from auditflow.models.comment import Comment
from auditflow.models.evidence import Evidence
from auditflow.models.history import History, HistoryIsAppendOnly, HistoryKind
from auditflow.models.issued import IssuedReport, IssuedReportFile
from auditflow.models.login_attempt import LoginAttempt
from auditflow.models.organisation import OrgUnit, UnitKind
from auditflow.models.recommendation import Category, Recommendation, recommendation_support_team
from auditflow.models.user import Role, User

__all__ = [
    "Audit",
    "Category",
    "Comment",
    "Evidence",
    "History",
    "HistoryIsAppendOnly",
    "HistoryKind",
    "IssuedReport",
    "IssuedReportFile",
    "LoginAttempt",
    "OrgUnit",
    "Recommendation",
    "Role",
    "UTCDateTime",
    "UnitKind",
    "User",
    "recommendation_support_team",
    "utcnow",
]
