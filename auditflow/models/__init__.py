"""The domain model, one module per aggregate. Its words live in ``auditflow.vocabulary``."""

from auditflow.models.access_log import AccessKind, AccessRecord, AccessResult
from auditflow.models.api_token import ApiToken
from auditflow.models.audit import Audit
from auditflow.models.base import AppendOnlyViolation, UTCDateTime, utcnow
from auditflow.models.chain import Chained, ChainHead, IntegrityCheck
from auditflow.models.comment import Comment
from auditflow.models.evidence import Evidence
from auditflow.models.extension import DueDateExtension
from auditflow.models.history import History
from auditflow.models.issued import IssuedReport, IssuedReportFile
from auditflow.models.login_attempt import LoginAttempt
from auditflow.models.login_throttle import EVERY_ADDRESS, LoginThrottle
from auditflow.models.notification import (
    EmailAttempt,
    EmailMessage,
    Notification,
    NotificationPreference,
)
from auditflow.models.organisation import OrgUnit
from auditflow.models.recommendation import Recommendation, recommendation_support_team
from auditflow.models.report_job import ReportJob
from auditflow.models.second_factor import RecoveryCode
from auditflow.models.transfer import TransferRequest
from auditflow.models.user import User, UserSession

__all__ = [
    "AccessKind",
    "AccessRecord",
    "AccessResult",
    "ApiToken",
    "Audit",
    "ChainHead",
    "Chained",
    "IntegrityCheck",
    "Comment",
    "DueDateExtension",
    "EmailAttempt",
    "EmailMessage",
    "Evidence",
    "History",
    "AppendOnlyViolation",
    "IssuedReport",
    "IssuedReportFile",
    "LoginAttempt",
    "LoginThrottle",
    "EVERY_ADDRESS",
    "Notification",
    "NotificationPreference",
    "OrgUnit",
    "Recommendation",
    "RecoveryCode",
    "ReportJob",
    "TransferRequest",
    "UTCDateTime",
    "User",
    "UserSession",
    "recommendation_support_team",
    "utcnow",
]
