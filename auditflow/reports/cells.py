"""Cells a spreadsheet must not take for formulas (the OWASP CSV-injection rule).

Excel, LibreOffice Calc and Google Sheets read a cell whose first character is
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula. Every text
of the report comes from people (the council's text, 추진내용, reasons, names),
so the spreadsheet writers treat those cells as text: the XLSX writer stores
them as strings with Excel's quote prefix (shown as written, still text after an
edit), the CSV writer puts one apostrophe before them, which spreadsheets take
as "this is text". Only the start of a cell counts: the "  - " lines inside a
multi-line 추진내용 are left as they are.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARKER = "'"

T = TypeVar("T")


def looks_like_formula(value: object) -> bool:
    """A text a spreadsheet would evaluate if it were typed into a cell as it is."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def as_text(value: T) -> T | str:
    """``value`` for a CSV cell: a text that looks like a formula gets the apostrophe."""
    if looks_like_formula(value):
        return f"{TEXT_MARKER}{value}"
    return value
