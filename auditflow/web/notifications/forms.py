"""Notification forms: marking read, and which kinds also come by e-mail."""

from __future__ import annotations

from typing import Any

from auditflow.vocabulary import NotificationKind
from auditflow.web.forms import KoreanForm, MultiCheckboxField, options


class MarkReadForm(KoreanForm):
    """A button: the CSRF token, nothing else."""


class PreferencesForm(KoreanForm):
    email_kinds = MultiCheckboxField(
        "메일로도 받을 알림",
        choices=options((kind.value, kind.label) for kind in NotificationKind),
    )
    def chosen(self) -> list[NotificationKind]:
        data: Any = self.email_kinds.data or []
        return [NotificationKind(value) for value in data if value in set(NotificationKind)]
