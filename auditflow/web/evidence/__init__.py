from auditflow.web.evidence.routes import bp

__all__ = ["bp"]
