"""For the operators and their machines: GET /healthz, /readyz and /metrics (no pages)."""

from auditflow.web.operations.routes import bp

__all__ = ["bp"]
