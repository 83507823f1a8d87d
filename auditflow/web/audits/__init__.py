from auditflow.web.audits.routes import bp

__all__ = ["bp"]
