"""The base of every form: Flask-WTF (CSRF) with WTForms' own Korean messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, widgets
from wtforms.i18n import get_translations
from wtforms.validators import DataRequired, InputRequired


def audit_choices() -> list[tuple[int, str]]:
    """Every audit, newest first: the choices of every audit select."""
    from auditflow.extensions import db
    from auditflow.models import Audit

    audits = db.session.scalars(db.select(Audit).order_by(Audit.year.desc(), Audit.id.desc()))
    return [(audit.id, audit.title) for audit in audits]


def required_message(field: Any) -> str | None:
    """The Korean words a required field says when left empty: its validator's own."""
    for validator in field.validators:
        if isinstance(validator, DataRequired | InputRequired) and validator.message:
            return str(validator.message)
    return None


class KoreanForm(FlaskForm):
    class Meta:
        locales = ("ko_KR", "ko")

        def get_translations(self, form: Any) -> Any:
            # Flask-WTF's translations need Flask-Babel; WTForms ships a Korean catalogue.
            return get_translations(self.locales)

        def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
            # A required field carries its own message: app.js says it before the post
            # (forms are ``novalidate``, so no English browser bubble), the server after.
            message = required_message(field)
            if message and "data-required-message" not in render_kw:
                render_kw = {**render_kw, "data-required-message": message}
            return super().render_field(field, render_kw)  # type: ignore[misc]

    @property
    def form_errors_all(self) -> list[str]:
        return list(self.form_errors)


class VersionedForm(KoreanForm):
    """A change to an item names the version the user saw, so a stale write is refused."""

    version = HiddenField(validators=[InputRequired()])

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return -1  # never matches: treated as a conflict


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
