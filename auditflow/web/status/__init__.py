"""부서별 현황 and the open items of every audit: read-only pages for the audit team, liaison and admin."""

from auditflow.web.status.routes import bp

__all__ = ["bp"]
