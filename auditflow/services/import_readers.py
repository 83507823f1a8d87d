"""Reading the council's list from a file into rows, before anything is checked.

The XLSX template (``template_bytes``) has one header row in Korean — 번호, 구분,
요구사항, 주관 부서, 협조 부서, 처리 기한 — and one item per row. Headers are found by
name (a few spellings each), so a list the council sent with the same headers in
another order, or with a title row above them, reads too. Every value is kept as the
file gives it, with the cell it came from, for ``importing`` to check.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from auditflow.errors import DomainError
from auditflow.vocabulary import Category

# Column → the header spellings it is known by (compared without spaces).
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("번호", "연번", "순번", "no", "no."),
    "category": ("구분", "유형", "분류"),
    "council_text": ("요구사항", "요구사항내용", "내용", "지적사항", "처리요구사항"),
    "lead_team": ("주관부서", "주관팀", "담당부서", "처리부서"),
    "supporting_teams": ("협조부서", "협조팀", "관련부서"),
    "due_date": ("처리기한", "기한", "조치기한"),
    # A 처리결과 report (this product's XLSX, or one laid out like it) also says where each
    # item stands and what was done.
    "state": ("추진상황", "처리상황", "상태"),
    "action_details": ("추진내용", "조치내용"),
    "future_plan": ("향후계획", "향후추진계획"),
    "decline_reason": ("미반영사유",),
}
REPORTED_ON = re.compile(r"['’]?(\d{2}|\d{4})\.\s*(\d{1,2})\.\s*(\d{1,2})\.?\s*기준")
REQUIRED = ("number", "category", "council_text")
HEADERS = ("번호", "구분", "요구사항", "주관 부서", "협조 부서", "처리 기한")
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 5000


class UnreadableFile(DomainError):
    code = "import_unreadable"
    status = 400


@dataclass
class RawRow:
    """One item as the file gives it: ``where`` names the row, ``cells`` each value's cell;
    ``problems`` what the reader itself could not make out, as (column, Korean reason)."""

    where: str
    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def key(text: Any) -> str:
    """A header or label as compared: no spaces, lower case."""
    return re.sub(r"\s+", "", str(text or "")).lower()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class Listing:
    rows: list[RawRow]
    reported_on: date | None = None  # a report's "'26.1.31. 기준", when the file says it


def read_xlsx(data: bytes) -> Listing:
    """The rows under the header row of the first sheet that has one, and the day a
    report says it shows (the first "… 기준" near the top of any sheet)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any damage in the file: a Korean refusal, never a 500
        raise UnreadableFile("엑셀(XLSX) 파일을 읽을 수 없습니다. 파일이 손상되지 않았는지 확인하세요.") \
            from exc
    try:
        reported_on = _reported_on(workbook)
        for sheet in workbook.worksheets:
            rows = _sheet_rows(sheet)
            if rows is not None:
                return Listing(rows, reported_on)
    finally:
        workbook.close()
    names = ", ".join(HEADERS)
    raise UnreadableFile(f"머리글 줄을 찾지 못했습니다. 첫 줄 가까이에 {names} 머리글이 있어야 합니다. "
                         "서식 파일을 내려받아 그 형식대로 작성하세요.", code="import_no_header")


def _reported_on(workbook: Any) -> date | None:
    for sheet in workbook.worksheets:
        for values in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True):
            for value in values:
                found = REPORTED_ON.search(str(value or ""))
                if found:
                    return as_date(".".join(found.groups()))
    return None


def _sheet_rows(sheet: Any) -> list[RawRow] | None:
    rows = sheet.iter_rows(values_only=True)
    header_at: int | None = None
    columns: dict[str, int] = {}
    for number, values in enumerate(rows, start=1):
        found = header_columns(values)
        if found:
            header_at, columns = number, found
            break
        if number >= HEADER_SEARCH_ROWS:
            return None
    if header_at is None:
        return None
    result = []
    for number, values in enumerate(rows, start=header_at + 1):
        if number - header_at > MAX_ROWS:
            raise UnreadableFile(f"한 번에 {MAX_ROWS}건까지 가져올 수 있습니다. 파일을 나누어 주세요.",
                                 code="import_too_many")
        if not any(value not in (None, "") and str(value).strip() for value in values):
            continue
        row = RawRow(where=f"{sheet.title} {number}행")
        for name, index in columns.items():
            value = values[index] if index < len(values) else None
            row.values[name] = value
            row.cells[name] = f"{_column_letter(index)}{number}"
        result.append(row)
    return result


def header_columns(values: tuple[Any, ...] | list[Any]) -> dict[str, int]:
    keys = [key(value) for value in values]
    columns: dict[str, int] = {}
    for name, spellings in COLUMNS.items():
        for index, found in enumerate(keys):
            if found and found in spellings and index not in columns.values():
                columns[name] = index
                break
    return columns if all(name in columns for name in REQUIRED) else {}


def template_bytes(categories: list[str], teams: list[str], example_team: str | None) -> bytes:
    """The XLSX template the import page offers: the headers, one example row, lists to pick from."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.title = "요구사항"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8E8E8")
        cell.alignment = Alignment(horizontal="center")
    for row in range(2, 201):
        sheet[f"F{row}"].number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEF", (8, 22, 70, 18, 28, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    lists = workbook.create_sheet("목록")
    lists.append(["구분", "부서(팀·TF)"])
    for index in range(max(len(categories), len(teams))):
        lists.append([categories[index] if index < len(categories) else None,
                      teams[index] if index < len(teams) else None])
    category_list = DataValidation(type="list", formula1=f"=목록!$A$2:$A${len(categories) + 1}",
                                   allow_blank=False)
    category_list.error, category_list.errorTitle = "목록에서 구분을 고르세요.", "구분"
    team_list = DataValidation(type="list", formula1=f"=목록!$B$2:$B${len(teams) + 1}",
                               allow_blank=True)
    team_list.error, team_list.errorTitle = "목록에서 부서를 고르세요.", "주관 부서"
    sheet.add_data_validation(category_list)
    sheet.add_data_validation(team_list)
    category_list.add(f"B2:B{MAX_ROWS + 1}")
    team_list.add(f"D2:D{MAX_ROWS + 1}")
    guide = workbook.create_sheet("작성 안내")
    for line in (
        "한 줄에 요구사항 하나를 적습니다. 머리글(1행)은 바꾸지 마세요.",
        "번호: 감사 안에서 겹치지 않는 1 이상의 정수.",
        f"구분: {', '.join(categories)} 중 하나.",
        "주관 부서: 팀 또는 TF의 이름이나 코드(비워 두면 나중에 지정). 본부는 지정할 수 없습니다.",
        "협조 부서: 여럿이면 쉼표(,)로 나눕니다.",
        "처리 기한: 날짜(예: 2026-06-30). 비워 두어도 됩니다.",
        f"예: 1 | {categories[0]} | 요구사항 내용을 한 칸에 | {example_team or '팀 이름'} | "
        "(협조 부서) | 2026-06-30",
        "같은 파일을 다시 가져오면 이미 있는 요구사항은 그대로 두고 새 줄만 더합니다.",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_DOTS = str.maketrans({"․": "·", "‧": "·", "・": "·", "ㆍ": "·", ".": "·"})


def category_of(value: Any) -> Category | None:
    """The category a cell or a heading names: its value, label or heading, or how they start."""
    text = re.sub(r"\s+", "", str(value or "")).translate(_DOTS)
    if not text:
        return None
    for category in Category:
        names = {category.value, category.label, category.heading}
        if text in {re.sub(r"\s+", "", name).translate(_DOTS) for name in names}:
            return category
    if text.startswith(("시정", "처리요구")):
        return Category.CORRECTIVE
    if text.startswith("건의"):
        return Category.SUGGESTION
    if text.startswith(("기타", "자료제출")):
        return Category.OTHER
    return None


def as_date(value: Any) -> date | None:
    """A cell's date: a date cell, 2026-06-30, 2026.6.30., '26.6.30. (None when unreadable)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip().rstrip(".")
    match = re.fullmatch(r"'?(\d{2}|\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})", text)
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None
