"""``flask --app auditflow report``: the same files as the writers, and clear refusals."""

from __future__ import annotations

from datetime import date

import pytest

from auditflow.extensions import db
from auditflow.models import Audit
from auditflow.reports import WRITERS, csv_items, html, pdf
from auditflow.reports.content import build_report
from tests.test_report_readback import read_csv, read_html, read_pdf

REFERENCE = date(2026, 1, 31)


@pytest.fixture
def audit(seeded):
    return db.session.scalar(db.select(Audit).filter_by(year=2025))


def run(app, *args: str):
    # Click >= 8.2 keeps stderr apart: result.stdout and result.stderr.
    return app.test_cli_runner().invoke(args=["report", *args])


def test_cli_writes_html_and_csv_as_the_writers_do(app, audit, tmp_path):
    report = build_report(audit, REFERENCE)
    for fmt, render in (("html", html.render), ("csv", csv_items.render)):
        output = tmp_path / f"보고서.{fmt}"
        result = run(app, "--audit", str(audit.id), "--as-of", "2026-01-31", "--format", fmt,
                     "--output", str(output))
        assert result.exit_code == 0, result.stderr
        assert "총 12건" in result.stdout and "'26.1.31. 기준" in result.stdout
        assert output.read_bytes().decode("utf-8") == render(report)
    assert read_html(output.with_suffix(".html").read_text(encoding="utf-8")).summary == report.table()
    assert len(read_csv(output.read_bytes())) == report.total + 1


def test_cli_writes_the_pdf(app, audit, tmp_path):
    output = tmp_path / "report.pdf"
    result = run(app, "--audit", str(audit.id), "--as-of", "2026-01-31", "--format", "pdf",
                 "--output", str(output))
    assert result.exit_code == 0, result.stderr
    from_cli = read_pdf(output.read_bytes())
    direct = read_pdf(pdf.render(build_report(audit, REFERENCE)))
    assert from_cli.text == direct.text
    assert from_cli.summary == direct.summary
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temp file left


def test_cli_refuses_an_unknown_audit(app, audit, tmp_path):
    output = tmp_path / "x.csv"
    result = run(app, "--audit", "999", "--format", "csv", "--output", str(output))
    assert result.exit_code == 1
    assert "오류 [audit_not_found]" in result.stderr
    assert not output.exists()


def test_cli_says_when_a_format_is_unavailable(app, audit, tmp_path, monkeypatch):
    monkeypatch.setitem(WRITERS, "hwpx", "auditflow.reports.no_such_writer")
    output = tmp_path / "x.hwpx"
    result = run(app, "--audit", str(audit.id), "--format", "hwpx", "--output", str(output))
    assert result.exit_code == 1
    assert "오류 [format_unavailable]" in result.stderr
    assert not output.exists()


def test_cli_refuses_a_bad_date_and_format(app, audit, tmp_path):
    output = tmp_path / "x.csv"
    bad_date = run(app, "--audit", str(audit.id), "--as-of", "2026-13-01", "--format", "csv",
                   "--output", str(output))
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.stderr
    bad_format = run(app, "--audit", str(audit.id), "--format", "docx", "--output", str(output))
    assert bad_format.exit_code == 2
    assert not output.exists()


def test_cli_without_date_uses_today(app, audit, tmp_path):
    from auditflow import dates

    output = tmp_path / "today.csv"
    result = run(app, "--audit", str(audit.id), "--format", "csv", "--output", str(output))
    assert result.exit_code == 0, result.stderr
    assert read_csv(output.read_bytes())[1][-1] == f"{dates.short(dates.today())} 기준"
