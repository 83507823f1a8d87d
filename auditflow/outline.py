"""The outline of a result text, as Korean public documents write it.

One entry per line; the marker comes first (ㅇ for a main point, - for a
sub-point, ※ for a note, or "1." for a numbered clause) and the nesting is the
indentation, two spaces per level. Lines without a marker (a quoted rule, for
example) keep their level. Every renderer (web page, HTML/PDF, HWPX, XLSX)
reads the text through ``parse`` so that they all agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKERS = ("ㅇ", "-", "※", "□", "○", "·")
_NUMBERED = re.compile(r"^(\d+[.)]|[가-하][.)])\s+")


@dataclass(frozen=True)
class OutlineLine:
    level: int  # 0 for a top entry, 1 nested under it, ...
    marker: str | None  # "ㅇ", "-", "※", "1.", ... or None
    text: str  # without the marker

    @property
    def display(self) -> str:
        return f"{self.marker} {self.text}" if self.marker else self.text


def parse(text: str | None) -> list[OutlineLine]:
    lines = []
    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        if not raw.strip():
            continue
        expanded = raw.expandtabs(2)
        indent = len(expanded) - len(expanded.lstrip(" "))
        body = expanded.strip()
        marker = None
        for candidate in MARKERS:
            if body.startswith(candidate) and (len(body) == 1 or body[1] in " \u00a0" or candidate in "ㅇ※□○"):
                marker, body = candidate, body[len(candidate):].strip()
                break
        else:
            numbered = _NUMBERED.match(body)
            if numbered:
                marker, body = numbered.group(1), body[numbered.end():].strip()
        lines.append(OutlineLine(level=indent // 2, marker=marker, text=body))
    return lines


def to_plain(text: str | None) -> list[str]:
    """Lines as the report prints them: one space before a top entry, two more per level."""
    return plain(parse(text))


def plain(lines: list[OutlineLine]) -> list[str]:
    """Parsed lines as ``to_plain`` prints them."""
    return [" " * (1 + 2 * line.level) + line.display for line in lines]
