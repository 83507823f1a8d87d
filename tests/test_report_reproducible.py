"""The same audit, reference date and edition give the same bytes in every format, in any
process, time zone and day (issue 9, item 2)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import REPO

SCRIPT = REPO / "tests" / "report_files.py"
# Two processes as far apart as the clock allows: other zones, other "now" for fontTools.
RUNS = ({"TZ": "Pacific/Kiritimati", "SOURCE_DATE_EPOCH": "946684800"},  # +14:00, 2000-01-01
        {"TZ": "America/Adak", "SOURCE_DATE_EPOCH": "1893456000"})  # -10:00, 2030-01-01


def _files(tmp_path, name: str, run: dict[str, str], *args: str) -> tuple[dict[str, str], dict]:
    folder = tmp_path / name
    folder.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "SOURCE_DATE_EPOCH"}
    env.update(run)
    result = subprocess.run([sys.executable, str(SCRIPT), str(folder), *args], env=env,
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    hashes = json.loads(result.stdout.strip().splitlines()[-1])
    return hashes, {path.suffix[1:]: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize("issued_on", [None, "2026-02-03"])
def test_every_format_comes_out_the_same_in_another_process_zone_and_day(tmp_path, issued_on):
    args = ("--issued-on", issued_on) if issued_on else ()
    first, files = _files(tmp_path, "first", RUNS[0], *args)
    second, _ = _files(tmp_path, "second", RUNS[1], *args)
    assert set(first) == {"pdf", "hwpx", "xlsx", "html", "csv"}
    assert first == second
    # ...and every file is dated by the edition: its day of issue, else the reference date.
    day = date.fromisoformat(issued_on) if issued_on else date(2026, 1, 31)
    info = PdfReader(io.BytesIO(files["pdf"])).metadata
    assert info["/CreationDate"] == info["/ModDate"] == f"D:{day:%Y%m%d}000000+09'00'"
    book = load_workbook(io.BytesIO(files["xlsx"]))
    assert book.properties.created == book.properties.modified == datetime.combine(day, datetime.min.time())
    with zipfile.ZipFile(io.BytesIO(files["hwpx"])) as archive:
        header = archive.read("Contents/content.hpf").decode()
        assert f"{day.isoformat()}T00:00:00Z" in header
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_report_rendered_in_parts_comes_out_the_same_in_another_process(tmp_path):
    # 120 items in three parts on the pool, joined; the items repeat the seed's in turn. An
    # issued edition: tagged, its structure trees joined too.
    args = ("--items", "120", "--formats", "pdf", "--chunk-rows", "40", "--issued-on", "2026-02-03")
    first, files = _files(tmp_path, "first", RUNS[0], *args)
    second, _ = _files(tmp_path, "second", RUNS[1], *args)
    assert first == second
    assert len(PdfReader(io.BytesIO(files["pdf"])).pages) > 25
