from auditflow.web.recommendations.routes import bp

__all__ = ["bp"]
