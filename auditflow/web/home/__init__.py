from auditflow.web.home.routes import bp

__all__ = ["bp"]
