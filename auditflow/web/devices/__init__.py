"""로그인 기기: a user's own active sessions (one per sign-in), and ending the others."""

from auditflow.web.devices.routes import bp

__all__ = ["bp"]
