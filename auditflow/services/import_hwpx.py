"""Reading the council's list, or a 처리결과 report, from a HWPX document (한글) into rows.

Two layouts are read, with python-hwpx, into the rows the XLSX reader gives
(``import_readers.RawRow``), so that ``importing`` checks, previews and writes them
the same way:

- Two-column tables (the council's text | 조치결과), each under its category heading
  ("시정·처리 요구사항", "건의 사항", "기타 사항", decorated or numbered as documents
  do: "1. 건의 사항 (7건)") or named by its own left header ("건의 사항"). This is
  how this product's HWPX report writes each category (``reports/hwpx.py``), and how
  the council's result list is laid out. The left cell is the council's text after
  its "ㅇ" (a leading "3." gives the item's number); the right cell, when it is
  filled, is read by its "□" headings, as the report words it (``ReportItem.blocks``):
  "□ 추진상황 : 추진완료", "□ 미반영 사유", "□ 추진내용" (or ": 작성 전"), "□ 향후계획",
  each followed by its lines, and also "□ 주관 부서 : …", "□ 협조 부서 : …",
  "□ 처리 기한 : …" where a list names them. A row spanning both columns that names
  a category starts that category inside the table.
- A table whose first row is the XLSX template's header (번호, 구분, 요구사항, …):
  read column by column, as the XLSX's rows are.

The report prints no item numbers, teams or due dates: items without a number are
numbered in document order (the report's order: by category, then number), and the
teams are left to the importer (``importing.plan(..., lead_team=...)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from auditflow.services.import_readers import (
    COLUMNS,
    MAX_ROWS,
    REPORTED_ON,
    Listing,
    RawRow,
    UnreadableFile,
    as_date,
    category_of,
    header_columns,
    key,
)

# A two-column table is a list of items when its right header speaks of the result.
RESULT_HEADER_WORDS = ("조치", "결과", "추진", "처리")
# The right cell's parts that a "□ name : value" line may start.
RIGHT_FIELDS = ("state", "action_details", "future_plan", "decline_reason", "lead_team",
                "supporting_teams", "due_date")
_HEADING = re.compile(r"^[□■]\s*([^:：]+?)\s*(?:[:：]\s*(.*?))?\s*$")
_NUMBERED = re.compile(r"^\s*(\d{1,5})\s*[.)]\s+")
_MARKER = re.compile(r"^\s*[ㅇ○◦]\s*")
# What documents put around a heading: a box or a bullet, "1." "가." "Ⅱ." "(1)", brackets, a count.
_DECORATION = re.compile(r"^[\s□■○◎●◇◆▣ㅇ◦*·\-]*(?:\(?(?:\d{1,2}|[가-하]|[ⅠⅡⅢⅣⅤⅥ])[.)]\s*)?")
_COUNT = re.compile(r"\(\s*(?:총\s*)?\d+\s*건\s*\)\s*$")
_BRACKETS = str.maketrans("", "", "<>〈〉《》【】[]「」")

LEFT, RIGHT, ABOVE = "왼쪽 칸", "오른쪽 칸", "표 위 제목"
UNSTRUCTURED = ("조치결과를 읽을 수 없습니다. '□ 추진상황 : 추진중'처럼 추진상황을 먼저 적고, "
                "그 아래에 '□ 추진내용', '□ 향후계획'을 적으세요.")


def read_hwpx(data: bytes) -> Listing:
    """The items of every list table of the document, and the day a report says it shows."""
    from hwpx import HwpxDocument

    try:
        document = HwpxDocument.open(data)
    except Exception as exc:  # any damage the upload check let through: a refusal, never a 500
        raise UnreadableFile("한글(HWPX) 문서를 읽을 수 없습니다. 한글에서 열어 다시 저장한 뒤 올려 주세요.",
                             code="import_unreadable") from exc
    try:
        return _Walk().listing(document)
    except UnreadableFile:
        raise
    except Exception as exc:  # a document the library opens but cannot walk
        raise UnreadableFile("한글(HWPX) 문서의 내용을 읽을 수 없습니다. 한글에서 열어 다시 저장한 뒤 올려 주세요.",
                             code="import_unreadable") from exc
    finally:
        document.close()


def heading_category(text: str) -> str:
    """A heading without its decoration: "1. 건의 사항 (7건)" → "건의 사항"."""
    bare = _COUNT.sub("", _DECORATION.sub("", text.translate(_BRACKETS))).strip()
    return bare


@dataclass
class _Table:
    number: int  # counted over every table of the body, as a reader counts them
    rows: list[list[tuple[int, list[str]]]]  # per row: (column, the cell's paragraphs)


class _Walk:
    """The body in document order: headings, then the tables under them."""

    def __init__(self) -> None:
        self.rows: list[RawRow] = []
        self.next_number = 1
        self.tables = 0
        self.list_tables = 0

    def listing(self, document: Any) -> Listing:
        heading = ""
        reported_on = None
        for paragraph in document.paragraphs:
            text = (paragraph.text or "").strip()
            if text:
                heading = text
                if reported_on is None and not self.rows:
                    found = REPORTED_ON.search(text)
                    reported_on = as_date(".".join(found.groups())) if found else None
            for table in paragraph.tables:
                self.tables += 1
                self._table(_Table(self.tables, _grid(table)), heading)
        if not self.list_tables:
            raise UnreadableFile(
                "한글(HWPX) 문서에서 요구사항 표를 찾지 못했습니다. 처리결과 보고서처럼 구분 제목(시정·처리 "
                "요구사항, 건의 사항, 기타 사항) 아래에 '요구사항 | 조치결과' 두 칸 표를 두거나, 번호·구분·요구사항 "
                "머리글이 있는 표로 작성한 문서를 올리세요.", code="import_no_items")
        return Listing(self.rows, reported_on)

    def _table(self, table: _Table, heading: str) -> None:
        if not table.rows:
            return
        first = [(column, "\n".join(lines)) for column, lines in table.rows[0]]
        columns = header_columns([text for _, text in first])
        if columns:
            self.list_tables += 1
            self._header_rows(table, {name: first[index][0] for name, index in columns.items()})
        elif len(first) == 2 and any(word in key(first[1][1]) for word in RESULT_HEADER_WORDS):
            self.list_tables += 1
            self._two_column_rows(table, heading, first[0][1])

    def _add(self, row: RawRow) -> None:
        if len(self.rows) >= MAX_ROWS:
            raise UnreadableFile(f"한 번에 {MAX_ROWS}건까지 가져올 수 있습니다. 파일을 나누어 주세요.",
                                 code="import_too_many")
        self.rows.append(row)

    def _header_rows(self, table: _Table, columns: dict[str, int]) -> None:
        for number, cells in enumerate(table.rows[1:], start=2):
            by_column = {column: "\n".join(lines).strip() for column, lines in cells}
            if not any(by_column.values()):
                continue
            row = RawRow(where=f"{table.number}번째 표 {number}행")
            for name, column in columns.items():
                row.values[name] = by_column.get(column, "")
                row.cells[name] = f"{column + 1}번째 칸"
            self._add(row)

    def _two_column_rows(self, table: _Table, heading: str, left_header: str) -> None:
        above = heading_category(heading)
        if category_of(above) is not None:
            category, where = above, ABOVE
        elif category_of(heading_category(left_header)) is not None:
            category, where = heading_category(left_header), "머리글 왼쪽 칸"
        else:
            category, where = above or left_header, ABOVE
        header = [lines for _, lines in table.rows[0]]
        for number, cells in enumerate(table.rows[1:], start=2):
            texts = [lines for _, lines in cells]
            if not any(line.strip() for lines in texts for line in lines) or texts == header:
                continue
            if len(cells) == 1:  # a row across the table: a category starts, or a note
                named = heading_category("\n".join(texts[0]))
                if category_of(named) is not None:
                    category, where = named, f"{number}행"
                continue
            row = RawRow(where=f"{table.number}번째 표 {number}행")
            row.values["category"], row.cells["category"] = category, where
            self._left(row, texts[0])
            self._right(row, texts[1] if len(texts) > 1 else [])
            self._add(row)

    def _left(self, row: RawRow, lines: list[str]) -> None:
        text = "\n".join(lines).strip()
        numbered = _NUMBERED.match(text)
        if numbered:
            number = int(numbered.group(1))
            text = text[numbered.end():]
        else:
            number = self.next_number
        self.next_number = number + 1
        row.values["number"], row.cells["number"] = number, LEFT
        row.values["council_text"] = _MARKER.sub("", text, count=1).strip()
        row.cells["council_text"] = LEFT

    def _right(self, row: RawRow, lines: list[str]) -> None:
        """The right cell's "□" parts; lines before any of them are a result nobody can place."""
        current: str | None = None
        parts: dict[str, list[str]] = {}
        loose: list[str] = []
        for line in lines:
            found = _HEADING.match(line)  # a part's heading starts the line (outline lines are indented)
            name = _right_field(found.group(1)) if found else None
            if found and name is not None:
                current = name
                parts[name] = [found.group(2)] if found.group(2) else []
            elif current is not None:
                parts[current].append(line)
            elif line.strip():
                loose.append(line)
        for name, part in parts.items():
            row.values[name] = "\n".join(part).strip("\n")
            row.cells[name] = RIGHT
        if loose:
            row.cells.setdefault("state", RIGHT)
            row.problems.append(("state", UNSTRUCTURED))


def _right_field(label: str) -> str | None:
    label = key(label)
    for name in RIGHT_FIELDS:
        if label in COLUMNS[name]:
            return name
    return None


def _grid(table: Any) -> list[list[tuple[int, list[str]]]]:
    """Each row's cells as (column, lines); by their place in the row where the file gives
    no addresses (or the same one twice)."""
    grid = []
    for row in table.rows:
        cells = list(row.cells)
        columns = [cell.address[1] for cell in cells]
        if len(set(columns)) != len(columns):
            columns = list(range(len(cells)))
        grid.append([(column, list(_lines(cell))) for column, cell in zip(columns, cells, strict=True)])
    return grid


def _lines(cell: Any) -> Iterator[str]:
    """A cell's paragraphs, each as its lines (a line break inside a paragraph splits it)."""
    for paragraph in cell.paragraphs:
        yield from (paragraph.text or "").replace("\r\n", "\n").split("\n")
