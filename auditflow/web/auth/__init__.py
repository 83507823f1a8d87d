from auditflow.web.auth.routes import bp

__all__ = ["bp"]
