"""The summary page's content: the 총괄 table at once, the items a category and a page at a time.

The whole report (``content.build_report``) is for the printable report and the
files; the page never loads or renders every item of an audit. It shows the
table (one grouped query, the summary engine's), then one category's items,
``PER_PAGE`` at a time by item number (keyset: the page after number N starts
past N, so the last page costs what the first does), each item worded as the
report words it (``content.item_slice``: the same loading, the same as-of rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auditflow import dates
from auditflow.models import Audit
from auditflow.paging import Page
from auditflow.reports import summary_formats
from auditflow.reports.content import (
    CATEGORY_ORDER,
    ITEMS_LINE_LABEL,
    LEADER_DOTS,
    ReportItem,
    ReportSection,
    Slice,
    item_slice,
    report_title,
)
from auditflow.reports.summary import Summary, summarize
from auditflow.vocabulary import Category

PER_PAGE = 20


@dataclass(frozen=True)
class SectionTab:
    category: Category
    heading: str
    count: int


@dataclass(frozen=True)
class SummaryPage:
    audit: Audit
    as_of: date
    title: str
    organisation: str
    summary: Summary
    tabs: tuple[SectionTab, ...]  # the categories with items, in report order
    section: ReportSection | None  # the category shown, with this page's items only
    page: Page[ReportItem]

    @property
    def total(self) -> int:
        return self.summary.total.total

    @property
    def reference_label(self) -> str:
        return f"{dates.short(self.as_of)} 기준"

    @property
    def items_line(self) -> str:
        return f"{ITEMS_LINE_LABEL} {LEADER_DOTS} 총 {self.total}건"

    def table(self) -> list[list[str]]:
        return summary_formats.table(self.summary)

    def file_name(self, fmt: str) -> str:
        return f"{self.title}({self.reference_label}).{fmt}"


def summary_page(audit: Audit, as_of: date | None, category: str | None = None, *,
                 after: int | None = None, before: int | None = None, number: int = 1,
                 per_page: int = PER_PAGE) -> SummaryPage:
    """The table, and the page of ``category``'s items after ``after`` (or before ``before``);
    the first category with items when ``category`` names none of them."""
    summary = summarize(audit, as_of)
    counts = {row.category: row.total for row in summary.rows if row.category is not None}
    tabs = tuple(SectionTab(c, c.heading, counts[c]) for c in CATEGORY_ORDER if counts.get(c))
    chosen = next((tab for tab in tabs if tab.category.value == category), tabs[0] if tabs else None)
    items: list[ReportItem] = []
    has_next = has_prev = False
    if chosen is not None:
        if chosen.category.value != category:
            after = before = None
        part = Slice(chosen.category, per_page + 1, after=after,
                     before=before if after is None else None)
        items = item_slice(audit, as_of, part)
        extra = len(items) > per_page
        if part.before is not None:  # counted back from ``before``: the extra one is first
            items = items[1:] if extra else items
            has_prev, has_next = extra, True
        else:
            items = items[:per_page]
            has_prev, has_next = after is not None, extra
        if not has_prev:
            number = 1
    page = Page(items=items, number=max(1, number), per_page=per_page, has_next=has_next,
                total=chosen.count if chosen else 0,
                next_after=str(items[-1].number) if has_next and items else None,
                prev_before=str(items[0].number) if has_prev and items else None)
    section = (ReportSection(chosen.category, chosen.heading, tuple(items))
               if chosen is not None else None)
    return SummaryPage(audit=audit, as_of=summary.as_of, title=report_title(audit),
                       organisation=audit.organisation, summary=summary, tabs=tabs,
                       section=section, page=page)
