"""Start-up: a command loads the report writers only when a format is asked for, and the
job queue (Huey) only when something is queued or the worker runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

WRITER_LIBRARIES = {"weasyprint", "hwpx", "openpyxl", "xlsxwriter", "pypdf", "fontTools",
                    "pydyf", "tinycss2", "cssselect2", "huey"}

PROBE = """
import json, sys
from auditflow import create_app
app = create_app()
runner = app.test_cli_runner()
result = runner.invoke(args=sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read())))
print(json.dumps({"exit": result.exit_code, "loaded": loaded}))
"""


def _loaded(*args: str) -> dict:
    env = {**os.environ, "AUDITFLOW_ENV": "development",
           "AUDITFLOW_DATABASE_URL": "sqlite:///:memory:"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], input=json.dumps(
        sorted(WRITER_LIBRARIES)), capture_output=True, text=True, timeout=120, cwd=REPO,
        env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_commands_start_without_any_report_writer():
    answer = _loaded("--help")
    assert answer["exit"] == 0 and answer["loaded"] == []


def test_a_format_loads_its_writer_when_asked_for():
    from auditflow import reports

    done = subprocess.run([sys.executable, "-c", (
        "import sys; from auditflow import reports; reports.writer('xlsx'); "
        "print('xlsxwriter' in sys.modules, 'weasyprint' in sys.modules)")],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.stdout.split() == ["True", "False"], done.stderr[-2000:]
    assert set(reports.WRITERS) == {"pdf", "hwpx", "xlsx", "html", "csv"}


def test_the_queue_is_made_when_first_asked_for(own_app):
    jobs = own_app.extensions["auditflow.jobs"]
    assert "huey" not in vars(jobs)
    assert jobs.make_report is jobs.make_report and jobs.huey.name
    assert {"huey", "deliver_email", "sweep_outbox", "sweep_report_jobs"} <= set(vars(jobs))
