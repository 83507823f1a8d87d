from auditflow.web.summary.routes import bp

__all__ = ["bp"]
