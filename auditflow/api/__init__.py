"""JSON endpoints. Same access rules as the pages; errors as {"error": {"code", "message"}}."""

from auditflow.api.routes import bp

__all__ = ["bp"]
