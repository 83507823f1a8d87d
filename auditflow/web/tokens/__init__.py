"""내 API 토큰: each user makes and revokes personal access tokens of the JSON API."""

from auditflow.web.tokens.routes import bp

__all__ = ["bp"]
