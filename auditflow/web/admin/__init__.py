from auditflow.web.admin.routes import bp

__all__ = ["bp"]
