"""bench/pages_bench.py --fill-only: the database it leaves is one bench-audit signs in to."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select, text

from auditflow import create_app
from auditflow.extensions import db
from auditflow.models import Recommendation
from tests.auth_helpers import login, post_form
from tests.conftest import REPO, _config

sys.path.insert(0, str(REPO / "bench"))
import pages_bench  # noqa: E402

PASSWORD = "Bench-pass-2025!"


def test_fill_only_leaves_the_items_and_a_user_who_signs_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "pages_bench.py"), "--fill-only", "-n", "60",
         "--url", url],
        capture_output=True, text=True, timeout=300, cwd=REPO,
        env={**os.environ, "AUDITFLOW_BENCH_PASSWORD": PASSWORD})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "filled 60 recommendations and bench-audit" in done.stdout
    app = create_app(_config(url, tmp_path))
    with app.app_context():
        assert db.session.scalar(select(func.count(Recommendation.id))) == 60
        # the text index was made with the tables, and holds the items
        assert db.session.scalar(text(
            "SELECT count(*) FROM recommendation_fts WHERE recommendation_fts MATCH '\"마련하기\"'"
        )) == 60
        db.session.remove()
    client = app.test_client()
    # enrolled in the second factor, with codes made from its password (production asks)
    assert login(client, "bench-audit", PASSWORD).location == "/login/code"
    signed = post_form(client, "/login/code", {"code": pages_bench.bench_code(PASSWORD)})
    assert signed.status_code == 303 and signed.location == "/"
    assert client.get("/summary").status_code == 200  # an audit-team reader
    wrong = pages_bench.bench_code(PASSWORD + "x")
    other = app.test_client()
    assert login(other, "bench-audit", PASSWORD).location == "/login/code"
    assert post_form(other, "/login/code", {"code": wrong}).status_code == 200  # refused


def test_fill_only_needs_the_password():
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "pages_bench.py"), "--fill-only", "-n", "5"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "AUDITFLOW_BENCH_PASSWORD"})
    assert done.returncode != 0 and "AUDITFLOW_BENCH_PASSWORD" in done.stderr
