"""The report as PDF: WeasyPrint renders the printable HTML document.

Every character is drawn from a font that has it: Pretendard GOV (the KRDS
typeface, from the krds-uiux npm package, embedded through @font-face with
file:// URLs) first, then Noto Sans CJK KR (Debian fonts-noto-cjk, found by
fontconfig) for the symbols the Pretendard GOV subset lacks (△ ㎡ 市 …). Both
families are named in the document's stylesheet, so nothing falls through to
an arbitrary system font; tests/test_report_pdf.py checks the seed's report.
"""

from __future__ import annotations

from pathlib import Path

from auditflow.errors import DomainError
from auditflow.reports import html, page
from auditflow.reports.content import Report
from auditflow.reports.page import PAGE
from auditflow.reports.progress import Progress, Steps

REPO = page.REPO
PRIMARY_FAMILY = PAGE.font.family
FALLBACK_FAMILY = PAGE.font.fallback  # Debian: fonts-noto-cjk


class FontsMissing(DomainError):
    code = "fonts_missing"
    status = 500


def primary_font_files() -> dict[int, Path]:
    files = {weight: PAGE.font.file(weight) for weight, _name in PAGE.font.files}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FontsMissing(
            "PDF에 넣을 Pretendard GOV 글꼴이 없습니다. `make install`(npm ci)로 "
            f"krds-uiux를 설치하세요: {', '.join(missing)}"
        )
    return files


def font_css() -> str:
    rules = []
    for weight, path in primary_font_files().items():
        rules.append(
            "@font-face { "
            f'font-family: "{PRIMARY_FAMILY}"; font-weight: {weight}; font-style: normal; '
            f'src: url("{path.as_uri()}") format("woff"); }}'
        )
    # The PDF names exactly these two families; browsers keep the document's own list.
    families = f'"{PRIMARY_FAMILY}", "{FALLBACK_FAMILY}"'
    rules.append(f"body {{ font-family: {families}; }}")
    rules.append(f"@page {{ @bottom-center {{ font-family: {families}; }} }}")
    return "\n".join(rules)


def render(report: Report) -> bytes:
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    document = html.render(report, extra_css=font_css())
    fonts = FontConfiguration()
    data: bytes = HTML(string=document, base_url=str(REPO)).write_pdf(font_config=fonts)
    return data


def write(report: Report, path: Path, progress: Progress | None = None) -> None:
    steps = Steps(progress, len(report.items))
    Path(path).write_bytes(render(report))
    steps.finish()
