"""The 조치내역 table as plain text, CSV and JSON; zero cells are blank as in the document."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from auditflow import dates
from auditflow.reports.summary import Summary

HEAD = "구분"
TOTAL = "계"


def table(summary: Summary) -> list[list[str]]:
    """Header and rows as the document lays them out, zeros left blank."""
    columns = summary.columns
    header = [HEAD, TOTAL, *(state.label for state in columns)]
    body = [
        [row.label, _cell(row.total), *(_cell(row.counts[state]) for state in columns)]
        for row in summary.rows
    ]
    return [header, *body]


def _cell(value: int) -> str:
    return str(value) if value else ""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def to_text(summary: Summary) -> str:
    rows = table(summary)
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        f"{summary.audit.title} 처리결과 조치내역 ({dates.short(summary.as_of)} 기준)",
        "",
    ]
    for index, row in enumerate(rows):
        cells = [_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(row)]
        lines.append(" | ".join(cells).rstrip())
        if index == 0:
            lines.append("-+-".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def to_csv(summary: Summary) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(table(summary))
    return buffer.getvalue()


def to_json(summary: Summary) -> str:
    return json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n"
