"""Every writer tells how far it has got (items written of the report's items) to an optional
callback, and writes the same file with it as without it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import FORMATS, writer
from auditflow.reports.content import build_report
from auditflow.reports.progress import Steps
from tests.conftest import rendered
from tests.test_report_readback import read_pdf

REFERENCE = date(2026, 1, 31)
# Writers that write item by item say so after each item; the others the start and the end.
ITEM_BY_ITEM = {"csv", "xlsx", "hwpx"}


@pytest.fixture
def report(seeded):
    audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
    return build_report(audit, REFERENCE)


@pytest.mark.file_format
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_writer_tells_its_items_and_writes_the_same_file(report, fmt, tmp_path: Path):
    told: list[tuple[int, int]] = []
    path = tmp_path / f"report.{fmt}"
    writer(fmt)(report, path, progress=lambda done, total: told.append((done, total)))
    total = len(report.items)
    assert total == 12
    assert told[0] == (0, total)
    assert told[-1] == (total, total)
    assert {t for _, t in told} == {total}
    assert [done for done, _ in told] == sorted(done for done, _ in told)  # never backwards
    if fmt in ITEM_BY_ITEM:
        assert {done for done, _ in told} == set(range(total + 1))
    if fmt == "pdf":  # WeasyPrint stamps the time it wrote the file: its text is compared
        assert read_pdf(path.read_bytes()).text == read_pdf(rendered("pdf", report)).text
    else:
        assert path.read_bytes() == rendered(fmt, report)


def test_steps_without_a_callback_count_silently():
    steps = Steps(None, 3)
    steps.advance()
    steps.advance()
    assert (steps.done, steps.total) == (2, 3)
    steps.finish()
    steps.advance()  # never past the total
    assert steps.done == 3
