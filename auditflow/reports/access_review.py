"""The monthly review of the access log (접속기록 점검): by person, by kind, unusual volumes
flagged, every record; and the same as an XLSX workbook (XlsxWriter, the safe-cell rule of
``reports.cells`` through ``reports.xlsx.Sheets``)."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import AccessKind, AccessRecord, AccessResult

if TYPE_CHECKING:
    from auditflow.reports.xlsx import Sheets

# Downloads and exports by one person in a month that are worth a look: this many at least,
# and three times the month's average per person who downloaded anything.
UNUSUAL_AT_LEAST = 20
UNUSUAL_TIMES_AVERAGE = 3
DOWNLOADS = frozenset({AccessKind.EVIDENCE_DOWNLOAD, AccessKind.REPORT_DOWNLOAD,
                       AccessKind.EXPORT})
# Failed sign-ins of one login in a month worth a look.
UNUSUAL_FAILURES = 10


@dataclass
class PersonMonth:
    login: str
    name: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: int = 0

    @property
    def downloads(self) -> int:
        return sum(self.counts[kind.value] for kind in DOWNLOADS)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class MonthReview:
    month: date  # the first day
    people: list[PersonMonth]
    kinds: dict[str, int]
    unusual: set[str]  # logins
    records: list[AccessRecord]

    @property
    def label(self) -> str:
        return f"{self.month.year}년 {self.month.month}월"


def month_bounds(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (dates.end_of_day(first - timedelta(days=1)), dates.end_of_day(following - timedelta(days=1)))


def month_review(month: date) -> MonthReview:
    """Everything recorded in ``month`` (the body's zone): by person, by kind, unusual volumes."""
    start, end = month_bounds(month)
    records = list(db.session.scalars(
        select(AccessRecord).where(AccessRecord.at > start, AccessRecord.at <= end)
        .options(selectinload(AccessRecord.user))
        .order_by(AccessRecord.at, AccessRecord.id)))
    people: dict[str, PersonMonth] = {}
    kinds: dict[str, int] = defaultdict(int)
    for record in records:
        login = record.login or "(알 수 없음)"
        person = people.setdefault(login, PersonMonth(
            login, record.user.name if record.user is not None else "-"))
        person.counts[record.kind] += 1
        if record.result == AccessResult.FAILURE.value:
            person.failures += 1
        kinds[record.kind] += 1
    rows = sorted(people.values(), key=lambda person: (-person.total, person.login))
    active = [person for person in rows if person.downloads]
    average = sum(person.downloads for person in active) / len(active) if active else 0
    unusual = {person.login for person in active
               if person.downloads >= UNUSUAL_AT_LEAST
               and person.downloads >= UNUSUAL_TIMES_AVERAGE * average}
    unusual |= {person.login for person in rows if person.failures >= UNUSUAL_FAILURES}
    return MonthReview(month.replace(day=1), rows, dict(kinds), unusual, records)


def labels() -> dict[str, str]:
    return {kind.value: kind.label for kind in AccessKind}


PERSON_COLUMNS = [("아이디", 16), ("이름", 12), ("전체", 8), ("내려받기·내보내기", 12), ("실패", 8),
                  ("확인 필요", 10)]
RECORD_COLUMNS = [("일시", 18), ("아이디", 14), ("접속지", 16), ("구분", 14), ("대상", 40),
                  ("결과", 8), ("내용", 24), ("사유", 30)]


def to_xlsx(review: MonthReview) -> bytes:
    """The review as a workbook: 사용자별, 구분별, 접속기록 (every record of the month)."""
    # The spreadsheet writer is loaded when a workbook is asked for, not at start-up.
    from xlsxwriter import Workbook

    from auditflow.reports.xlsx import HEADER_FILL, Sheets

    buffer = io.BytesIO()
    book = Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                             "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"title": f"접속기록 점검 {review.label}",
                         "created": datetime.combine(review.month, time())})
    sheets = Sheets(book)
    header = {"bold": True, "bg_color": HEADER_FILL, "border": 1, "align": "center",
              "valign": "vcenter", "text_wrap": True}
    cell = {"border": 1, "valign": "top", "text_wrap": True}
    flagged = {**cell, "bg_color": "#FDE2E1"}
    kinds = [kind for kind in AccessKind]

    people = book.add_worksheet("사용자별")
    columns = PERSON_COLUMNS + [(kind.label, 10) for kind in kinds]
    _table(sheets, people, f"접속기록 점검 {review.label}: 사용자별", columns, header)
    for row, person in enumerate(review.people, start=2):
        unusual = person.login in review.unusual
        values: list[Any] = [person.login, person.name, person.total, person.downloads,
                             person.failures, "확인 필요" if unusual else ""]
        values += [person.counts.get(kind.value, 0) for kind in kinds]
        for col, value in enumerate(values):
            sheets.put(people, row, col, value, flagged if unusual else cell)

    by_kind = book.add_worksheet("구분별")
    _table(sheets, by_kind, f"접속기록 점검 {review.label}: 구분별", [("구분", 18), ("건수", 10)],
           header)
    for row, kind in enumerate(kinds, start=2):
        sheets.put(by_kind, row, 0, kind.label, cell)
        sheets.put(by_kind, row, 1, review.kinds.get(kind.value, 0), cell)

    every = book.add_worksheet("접속기록")
    _table(sheets, every, f"접속기록 {review.label} ({len(review.records)}건)", RECORD_COLUMNS,
           header)
    for row, record in enumerate(review.records, start=2):
        for col, value in enumerate(_record_values(record)):
            sheets.put(every, row, col, value, cell)
    every.freeze_panes(2, 0)
    book.close()
    return buffer.getvalue()


def _table(sheets: Sheets, sheet: Any, caption: str, columns: list[tuple[str, int]],
           header: dict[str, Any]) -> None:
    sheet.merge_range(0, 0, 0, len(columns) - 1, caption, sheets.style(bold=True))
    for col, (title, width) in enumerate(columns):
        sheet.set_column(col, col, width)
        sheets.put(sheet, 1, col, title, header)


def _record_values(record: AccessRecord) -> list[Any]:
    return [f"{dates.local(record.at):%Y-%m-%d %H:%M:%S}", record.login or "", record.remote_addr or "",
            AccessKind(record.kind).label, record.target or "", AccessResult(record.result).label,
            record.detail or "", record.reason or ""]
