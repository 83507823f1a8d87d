"""The benchmarks stay runnable: a small run of each prints its figures (timings are not judged)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_summary_benchmark_runs_and_agrees_with_raw_sql(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "summary_bench.py"), "-n", "300", "--repeat", "1",
         "--url", f"sqlite:///{tmp_path / 'bench.db'}"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "recommendations: 300" in result.stdout
    for name in ("summary", "raw GROUP BY", "summary as of", "raw as-of SQL"):
        assert f"  {name} " in result.stdout
