"""The summary page (/summary) and its downloads: what readers see, and who may see it."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from html import unescape
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from auditflow import dates
from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import FORMATS, csv_items, html
from auditflow.reports.content import build_report
from tests.auth_helpers import login
from tests.conftest import DEMO_PASSWORD, rendered
from tests.test_report_readback import read_csv, read_html, read_pdf

REFERENCE = date(2026, 1, 31)
FILE_BASE = "2025 행정사무감사 처리결과('26.1.31. 기준)"


@pytest.fixture
def audit(seeded):
    return db.session.scalar(db.select(Audit).filter_by(year=2025))


def client_for(app, who: str | None):
    client = app.test_client()
    if who:
        response = login(client, who, DEMO_PASSWORD)
        assert response.status_code == 303, f"{who} could not sign in"
    return client


def page(client, audit, as_of: str = "2026-01-31"):
    return client.get(f"/summary?audit={audit.id}&as_of={as_of}")


def table_rows(text: str, css_class: str) -> list[list[str]]:
    """Rows of the table with ``css_class`` (header included), cell texts with spaces collapsed."""
    match = re.search(rf'<table class="[^"]*{css_class}[^"]*">(.*?)</table>', text, re.S)
    assert match, f"no table {css_class}"
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in cells])
    return rows


@pytest.mark.parametrize("who", ["liaison", "audit", "admin"])
def test_readers_see_the_summary_and_the_items(app, audit, who):
    response = page(client_for(app, who), audit)
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    text = unescape(raw)
    report = build_report(audit, REFERENCE)
    assert "'26.1.31. 기준" in text
    assert f"총 {report.summary.total.total}건" in text and "총 12건" in text
    assert table_rows(text, "report-summary") == report.table()
    # One category at a time (the first one first), each item worded as the report words it.
    client = client_for(app, who)
    numbers = []
    for section in report.sections:
        shown = unescape(client.get(f"/summary?audit={audit.id}&as_of=2026-01-31"
                                    f"&section={section.category.value}").get_data(as_text=True))
        assert f">{section.heading}</h3>" in shown
        assert f"{section.heading} ({len(section.items)}건)" in shown  # the tabs count them
        on_page = [int(n) for n in re.findall(r'<tr data-number="(\d+)">', shown)]
        assert on_page == [item.number for item in section.items]
        for item in section.items:
            assert item.status_line in shown
        numbers += on_page
    assert numbers == [item.number for item in report.items]
    assert len(numbers) == report.summary.total.total
    first = report.sections[0]
    assert re.findall(r'<tr data-number="(\d+)">', text) == [str(i.number) for i in first.items]
    # The issue form is there for the liaison and the audit team only.
    assert (f'action="/summary/{audit.id}/issue"' in text) == (who in ("liaison", "audit"))
    assert "<script>" not in raw  # no inline script: the page works under the CSP
    assert 'href="/static/summary.css"' in text


def test_summary_offers_a_download_per_available_format(app, audit):
    from auditflow.reports import available_formats

    text = page(client_for(app, "liaison"), audit).get_data(as_text=True)
    links = re.findall(rf'href="(/summary/{audit.id}/report\.(\w+)\?as_of=2026-01-31&amp;due_changes=1)"', text)
    assert [fmt for _, fmt in links] == available_formats()
    assert set(available_formats()) >= {"html", "pdf", "csv"}


def test_the_date_defaults_to_today_and_the_latest_audit(app, audit):
    text = unescape(client_for(app, "liaison").get("/summary").get_data(as_text=True))
    assert f"{dates.short(dates.today())} 기준" in text
    assert f'<option selected value="{audit.id}">' in text


def test_as_of_before_the_audit_lists_nothing(app, audit):
    text = page(client_for(app, "liaison"), audit, "2025-01-01").get_data(as_text=True)
    assert "총 0건" in text and 'data-number=' not in text


@pytest.mark.parametrize("query, status", [
    ("as_of=2026-13-40", 400),
    ("as_of={future}", 400),
    ("audit=9999", 400),  # not one of the choices
    ("audit=abc", 400),
])
def test_bad_filters_are_refused_clearly(app, audit, query, status):
    future = (dates.today() + timedelta(days=2)).isoformat()
    response = client_for(app, "liaison").get("/summary?" + query.format(future=future))
    assert response.status_code == status
    if status == 400:
        assert "기준일" in response.get_data(as_text=True) or "감사" in response.get_data(as_text=True)


# --- downloads -------------------------------------------------------------------------------


def download(client, audit, fmt, as_of="2026-01-31"):
    return client.get(f"/summary/{audit.id}/report.{fmt}?as_of={as_of}")


def test_downloads_carry_the_report_name_and_type(app, audit, render_once):
    from auditflow.reports import available_formats

    client = client_for(app, "liaison")
    for fmt in available_formats():
        response = download(client, audit, fmt)
        assert response.status_code == 200, fmt
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote(f'{FILE_BASE}.{fmt}', safe='')}" in disposition
        assert response.headers["Cache-Control"] == "private, no-store"
    assert download(client, audit, "pdf").mimetype == "application/pdf"
    assert download(client, audit, "csv").headers["Content-Type"] == "text/csv; charset=utf-8"


def test_downloaded_files_are_the_report(app, audit):
    report = build_report(audit, REFERENCE)
    client = client_for(app, "liaison")
    html_text = download(client, audit, "html").get_data(as_text=True)
    assert html_text == html.render(report)
    assert read_html(html_text).summary == report.table()
    csv_bytes = download(client, audit, "csv").data
    assert csv_bytes == csv_items.render(report).encode("utf-8")
    assert len(read_csv(csv_bytes)) - 1 == report.summary.total.total
    pdf_read = read_pdf(download(client, audit, "pdf").data)
    assert pdf_read.text == read_pdf(rendered("pdf", report)).text
    assert pdf_read.summary == report.table()


def _xlsx_values(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def _hwpx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sections = sorted(n for n in archive.namelist() if re.fullmatch(r"Contents/section\d+\.xml", n))
        xml = "".join(archive.read(name).decode("utf-8") for name in sections)
    return "".join(re.findall(r"<hp:t(?:\s[^>]*)?>([^<]*)</hp:t>", xml))


def test_hwpx_and_xlsx_downloads_equal_their_writers(app, audit):
    from auditflow.reports import hwpx, xlsx

    report = build_report(audit, REFERENCE)
    client = client_for(app, "liaison")
    assert _xlsx_values(download(client, audit, "xlsx").data) == _xlsx_values(xlsx.to_bytes(report))
    downloaded = _hwpx_text(download(client, audit, "hwpx").data)
    assert downloaded == _hwpx_text(hwpx.to_bytes(report))
    assert "총 12건" in downloaded


@pytest.mark.parametrize("path, status", [
    ("/summary/{id}/report.docx?as_of=2026-01-31", 404),
    ("/summary/9999/report.pdf?as_of=2026-01-31", 404),
    ("/summary/{id}/report.csv?as_of=31.1.2026", 400),
    ("/summary/{id}/report.csv?as_of={future}", 400),
])
def test_bad_downloads_are_refused(app, audit, path, status):
    future = (dates.today() + timedelta(days=1)).isoformat()
    response = client_for(app, "liaison").get(path.format(id=audit.id, future=future))
    assert response.status_code == status
    assert "attachment" not in response.headers.get("Content-Disposition", "")


def test_downloads_without_date_are_as_of_today(app, audit):
    response = client_for(app, "audit").get(f"/summary/{audit.id}/report.csv")
    assert response.status_code == 200
    assert read_csv(response.data)[1][-1] == f"{dates.short(dates.today())} 기준"


# --- access ----------------------------------------------------------------------------------


def test_departments_are_refused_everything(app, audit):
    client = client_for(app, "ai-companion")
    assert page(client, audit).status_code == 403
    for fmt in FORMATS:
        assert download(client, audit, fmt).status_code == 403


def test_signed_out_users_are_sent_to_sign_in(app, audit):
    client = app.test_client()
    for path in (f"/summary?audit={audit.id}", f"/summary/{audit.id}/report.pdf",
                 f"/summary/{audit.id}/issued/1/pdf"):
        response = client.get(path)
        assert response.status_code in (302, 303), path
        assert "/login" in response.location
    response = client.post(f"/summary/{audit.id}/issue", data={})
    assert response.status_code in (302, 303, 400)  # no session: sign-in (or the CSRF refusal)
