"""What changed between two editions of one audit (판 비교), item by item.

Each edition's items are taken as the edition was made (``verification.edition_report``:
its reference date, from the append-only history), and compared by item: 추진상황, 구분,
요구사항 내용, 추진내용, 향후계획, 주관 부서, 협조 부서, 처리 기한 and the number of evidence
files; items only in the newer edition are 추가, items only in the older one 삭제. The
summary page shows it as a table and ``flask report diff`` as plain text. Nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.models import IssuedReport
from auditflow.reports.content import ReportItem
from auditflow.services.issuing import edition_label
from auditflow.services.verification import edition_report
from auditflow.vocabulary import Category

NONE = "없음"  # an empty value, as the table and the command line print it


def _text(value: str | None) -> str:
    return value.strip() if value and value.strip() else NONE


# (label, how an item's value is told), in the order the table lists them.
FIELDS: tuple[tuple[str, Callable[[ReportItem], str]], ...] = (
    ("추진상황", lambda item: item.state.label),
    ("구분", lambda item: item.category.label),
    ("요구사항 내용", lambda item: _text(item.council_text)),
    ("추진내용", lambda item: _text(item.action_details)),
    ("향후계획", lambda item: _text(item.future_plan)),
    ("주관 부서", lambda item: item.lead_team or NONE),
    ("협조 부서", lambda item: ", ".join(item.supporting_teams) or NONE),
    ("처리 기한", lambda item: item.due_date.isoformat() if item.due_date else NONE),
    ("증빙 파일 수", lambda item: f"{item.evidence_count}개"),
)


@dataclass(frozen=True)
class Change:
    field: str  # the Korean label of what changed
    before: str
    after: str


@dataclass(frozen=True)
class ItemChange:
    number: int
    category: Category
    council_text: str
    kind: str  # "changed", "added" (only in the newer edition), "removed" (only in the older)
    changes: tuple[Change, ...] = ()

    @property
    def kind_label(self) -> str:
        return {"changed": "변경", "added": "추가", "removed": "삭제"}[self.kind]

    @property
    def label(self) -> str:
        """"건의사항 3번"."""
        return f"{self.category.label} {self.number}번"


@dataclass(frozen=True)
class EditionDiff:
    older: IssuedReport
    newer: IssuedReport
    items: tuple[ItemChange, ...]

    @property
    def title(self) -> str:
        return f"{_edition(self.older)} → {_edition(self.newer)}"

    def lines(self) -> list[str]:
        """The comparison as plain text, one line per change."""
        head = f"{self.older.audit.title} {self.title}: "
        if not self.items:
            return [head + "바뀐 요구사항이 없습니다."]
        lines = [head + f"요구사항 {len(self.items)}건이 다릅니다."]
        for item in self.items:
            if item.kind != "changed":
                lines.append(f"[{item.label}] {item.kind_label}: {_short(item.council_text)}")
                continue
            for change in item.changes:
                lines.append(f"[{item.label}] {change.field}: {_one_line(change.before)} → "
                             f"{_one_line(change.after)}")
        return lines


def _edition(edition: IssuedReport) -> str:
    return f"{edition_label(edition)}({dates.short(edition.as_of)} 기준)"


def _one_line(text: str) -> str:
    return " / ".join(line.strip() for line in text.splitlines() if line.strip()) or NONE


def _short(text: str, length: int = 40) -> str:
    flat = _one_line(text)
    return flat if len(flat) <= length else flat[:length] + "…"


def compare(first: IssuedReport, second: IssuedReport) -> EditionDiff:
    """What changed from the earlier to the later of two editions of one audit."""
    if first.audit_id != second.audit_id:
        raise DomainError(
            f"{edition_label(first)}(발행 번호 {first.id})과 {edition_label(second)}"
            f"(발행 번호 {second.id})은 서로 다른 감사의 판이라 비교할 수 없습니다.",
            code="editions_of_different_audits")
    older, newer = sorted((first, second), key=lambda edition: edition.number)
    before = {item.id: item for item in edition_report(older).items}
    after = {item.id: item for item in edition_report(newer).items}
    changed: list[ItemChange] = []
    for item in after.values():
        old = before.get(item.id)
        if old is None:
            changed.append(ItemChange(item.number, item.category, item.council_text, "added"))
            continue
        changes = tuple(Change(label, tell(old), tell(item)) for label, tell in FIELDS
                        if tell(old) != tell(item))
        if changes:
            changed.append(ItemChange(item.number, item.category, item.council_text, "changed",
                                      changes))
    changed.extend(ItemChange(item.number, item.category, item.council_text, "removed")
                   for item_id, item in before.items() if item_id not in after)
    order = tuple(Category)
    changed.sort(key=lambda change: (order.index(change.category), change.number))
    return EditionDiff(older, newer, tuple(changed))


__all__ = ["FIELDS", "Change", "EditionDiff", "ItemChange", "compare"]
