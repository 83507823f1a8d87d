"""The base of every form: Flask-WTF (CSRF) with WTForms' own Korean messages."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectMultipleField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import get_translations
from wtforms.validators import DataRequired, InputRequired

from auditflow.web import parts


@functools.cache
def _korean_catalogue(locales: tuple[str, ...]) -> Any:
    return get_translations(locales)


def audit_catalogue() -> list[tuple[int, int, str]]:
    """Every audit (id, year, title), newest first: read once per request, with what the
    page's kept parts depend on (``web.parts.state``)."""
    return list(parts.state().audits)


def audit_choices() -> list[tuple[int, str]]:
    """Every audit, newest first: the choices of every audit select (once per request)."""
    return [(audit_id, title) for audit_id, _year, title in audit_catalogue()]


def options(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as a select's options (WTForms' ``SelectChoice``)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _select(field: Any, attrs: dict[str, Any]) -> Markup | None:
    """A plain select as WTForms' ``Select`` draws it, in one pass over the choices (the
    widget's call per option costs more than the rest of a list page's filters); None for
    what it draws otherwise (groups, options with attributes of their own)."""
    if field.has_groups():
        return None
    attrs = {"id": field.id, **attrs}
    if "required" not in attrs and field.flags.required:
        attrs["required"] = True
    html = [f"<select {widgets.html_params(name=field.name, **attrs)}>"]
    for choice in field.iter_choices():
        if choice.render_kw:
            return None
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        html.append(f'<option {selected}value="{escape(value)}">{label}</option>')
    html.append("</select>")
    return Markup("".join(html))


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
            # Flask-WTF's translations need Flask-Babel; WTForms ships a Korean catalogue,
            # read from its file once per process instead of once per form.
            return _korean_catalogue(self.locales)

        def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
            # A required field carries its own message: app.js says it before the post
            # (forms are ``novalidate``, so no English browser bubble), the server after.
            message = required_message(field)
            if message and "data-required-message" not in render_kw:
                render_kw = {**render_kw, "data-required-message": message}
            if type(field.widget) is widgets.Select and not field.widget.multiple:
                drawn = _select(field, {**(field.render_kw or {}), **render_kw})
                if drawn is not None:
                    return drawn
            return super().render_field(field, render_kw)  # type: ignore[misc]

    def hidden_tag(self, *fields: Any) -> Markup:
        """The form's hidden fields (or those of ``fields``), as Flask-WTF draws them but
        without a widget call each (a page of forms draws dozens): the browser only sends
        them back, so no ``required`` or message goes with them; the server checks."""
        chosen = (getattr(self, f, None) if isinstance(f, str) else f for f in fields or self)
        return Markup("\n".join(
            f'<input id="{escape(f.id)}" name="{escape(f.name)}" type="hidden" '
            f'value="{escape(f._value())}">'
            for f in chosen if f is not None and isinstance(f.widget, widgets.HiddenInput)))

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
