"""A real SMTP server on loopback (aiosmtpd) and a real Huey worker, for the notification tests.

``SmtpServer`` collects what it receives; ``stop()`` and ``start()`` take it down and
bring it back on the same port, as a mail server that was unreachable for a while.
``Worker`` runs the application's own Huey consumer in threads, as
``flask --app auditflow worker`` does, against the application's queue (a SQLite file,
or the Redis at 127.0.0.1:6379).
"""

from __future__ import annotations

import email
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    to: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",)) if hasattr(self.message, "get_body") else None
        return (part or self.message).get_content()  # type: ignore[union-attr]


class _Collect:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                                 parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    def settings(self, **more: object) -> dict[str, object]:
        """The application's mail settings for this server (and ``more``)."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port,
                "MAIL_FROM": "audit@seoul-ai.example", "MAIL_RETRY_DELAY": 1, **more}

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.to]


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll ``condition`` until it is true (a worker works on its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.05)


class Worker:
    """The application's Huey consumer, running in this process's threads."""

    def __init__(self, app: Any) -> None:
        self.huey = app.extensions["auditflow.jobs"].huey
        self.consumer = self.huey.create_consumer(
            workers=2, periodic=False, worker_type="thread", initial_delay=0.02,
            backoff=1.1, max_delay=0.1, check_worker_health=False)

    def start(self) -> None:
        # The consumer takes SIGINT/SIGTERM/SIGHUP for itself (right for the worker
        # command); here they stay the test runner's.
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM,
                                                        signal.SIGHUP)}
        self.consumer.start()
        for sig, handler in saved.items():
            signal.signal(sig, handler)

    def stop(self) -> None:
        self.consumer.stop(graceful=True)
        self.huey.flush()
