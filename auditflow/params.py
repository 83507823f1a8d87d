"""Numbers from query strings and forms: ASCII digits within range, else nothing.

``str.isdigit`` also accepts "²" and "١" (which ``int`` then refuses or reads), and a
number past 64 bits breaks the database's integers: both used to end in a 500. A
value that is not such a number is treated as absent, as a missing filter is.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,10}")
MAX_INT = 2**31 - 1  # what every integer column and LIMIT/OFFSET of both databases holds


def small_int(text: str | None, *, maximum: int = MAX_INT) -> int | None:
    """``text`` as a whole number in 0 … ``maximum``, or None."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None
MAX_PAGE = 100_000  # a page number beyond any list; past it, the first page


def search_text(text: str | None, *, limit: int = 200) -> str:
    """A search box's text without control characters (PostgreSQL refuses NUL in a string;
    none belongs in a search), at most ``limit`` characters."""
    return "".join(ch for ch in (text or "")[:limit] if ch.isprintable() or ch == " ")
