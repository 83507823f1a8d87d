"""What `make` runs stays runnable: a small benchmark run (timings are not judged), the Procfile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_the_procfile_starts_the_web_server_and_the_worker():
    result = subprocess.run([str(Path(sys.executable).parent / "honcho"), "check", "-f", "Procfile"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "web" in result.stderr + result.stdout and "worker" in result.stderr + result.stdout
    procfile = (REPO / "Procfile").read_text(encoding="utf-8")
    assert "flask --app auditflow run" in procfile and "flask --app auditflow worker" in procfile
