from auditflow.web.auth import second_factor  # noqa: F401  (its views join the blueprint)
from auditflow.web.auth.routes import bp

__all__ = ["bp"]
