"""The report benchmark stays runnable: a small run (its timings are not judged)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_report_benchmark_times_every_format_and_the_floors():
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "report_bench.py"), "--sizes", "15", "--repeat", "1"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("items: 15 ")
    for name in ("pdf", "hwpx", "xlsx", "html", "csv", "pdf, tagged", "pdf, one rendering",
                 "bare table", "bare table, fixed"):
        assert any(line.startswith(f"  {name} ") and " median " in line and " peak " in line
                   for line in lines), name
    assert any(line.startswith("  ratio pdf / bare table ") for line in lines)
