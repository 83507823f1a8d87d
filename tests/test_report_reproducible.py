"""The same audit, reference date and edition give the same bytes in every format, in any
process, time zone and day (issue 9, item 2)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import REPO

SCRIPT = REPO / "tests" / "report_files.py"
# Two processes as far apart as the clock allows: other zones, other "now" for fontTools.
RUNS = ({"TZ": "Pacific/Kiritimati", "SOURCE_DATE_EPOCH": "946684800"},  # +14:00, 2000-01-01
        {"TZ": "America/Adak", "SOURCE_DATE_EPOCH": "1893456000"})  # -10:00, 2030-01-01


# The sets of files each process writes (tests/report_files.py, one after the other from the
# same database): the download and the issued edition in every format, and an issued edition
# of 120 items in three parts on the pool, joined (the items repeat the seed's in turn;
# tagged, its structure trees joined too).
SETS = {
    None: (),
    "2026-02-03": ("--issued-on", "2026-02-03"),
    "parts": ("--items", "120", "--formats", "pdf", "--chunk-rows", "40",
              "--issued-on", "2026-02-03"),
}


@dataclass(frozen=True)
class Written:
    first: dict[str, str]  # each file's SHA-256, as the first process found it
    second: dict[str, str]  # ... and the second
    files: dict[str, bytes]  # the first process's files


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str | None, Written]:
    """Every set of files written by two processes as far apart as the clock allows, each
    process starting once (importing the application and loading the seed are the same
    every time; what is compared is what each writes)."""
    root = tmp_path_factory.mktemp("reproducible")
    hashes = []
    for index, run in enumerate(RUNS):
        command = [sys.executable, str(SCRIPT)]
        for number, args in enumerate(SETS.values()):
            folder = root / f"run{index}-set{number}"
            folder.mkdir()
            command += [*(["--then"] if number else []), str(folder), *args]
        env = {key: value for key, value in os.environ.items() if key != "SOURCE_DATE_EPOCH"}
        env.update(run)
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600,
                                cwd=REPO)
        assert result.returncode == 0, result.stderr[-3000:]
        lines = result.stdout.strip().splitlines()[-len(SETS):]
        hashes.append([json.loads(line) for line in lines])
    return {
        name: Written(hashes[0][number], hashes[1][number],
                      {path.suffix[1:]: path.read_bytes()
                       for path in (root / f"run0-set{number}").iterdir()})
        for number, name in enumerate(SETS)
    }


@pytest.mark.parametrize("issued_on", [None, "2026-02-03"])
def test_every_format_comes_out_the_same_in_another_process_zone_and_day(written, issued_on):
    made = written[issued_on]
    files = made.files
    assert set(made.first) == {"pdf", "hwpx", "xlsx", "html", "csv"}
    assert made.first == made.second
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


def test_a_report_rendered_in_parts_comes_out_the_same_in_another_process(written):
    made = written["parts"]
    assert set(made.first) == {"pdf"}
    assert made.first == made.second
    assert len(PdfReader(io.BytesIO(made.files["pdf"])).pages) > 25
