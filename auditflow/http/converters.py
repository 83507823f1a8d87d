"""``<int:...>`` in every route stops at the largest id a database column holds, so an
id too large for it is a 404, not a database error (SQLite and PostgreSQL integers)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

LARGEST_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)
