"""Benchmark: the pages people open, served as production serves them, under load.

    python bench/pages_bench.py [--url URL] [-n 100000] [--seconds 10] [--rounds 4]
                                [--connections 20] [--workers 2] [--fill-only | --filled]

Fills a fresh database (a temporary SQLite file by default; a PostgreSQL URL works,
its tables dropped first) with N recommendations as the summary benchmark does
(``bench/summary_bench.py``: five audit years, three categories, ten teams, the
history that brings each item to its state), and an audit-team user ``bench-audit``
whose password is ``AUDITFLOW_BENCH_PASSWORD`` (made up for the run when unset;
``--fill-only`` needs it, fills, and exits, for a server started by hand). Production
asks an audit-team user for a second factor: bench-audit is enrolled with a TOTP secret
derived from its password (``bench_secret``), so whoever knows the password can make
its codes (``bench_code``). Then
it starts gunicorn (``--workers`` sync workers) on the database, signs in, and
for each page keeps ``--connections`` requests under way for ``--seconds`` (in ``--rounds``
turns over all the pages, so that a drift in the machine's speed falls on every page alike),
printing p50, p95, requests per second and failures, with the SQL statements one
request of the page runs, drawn afresh / with the parts the process keeps while the
history stands still (``web/parts.py``; counted in this process with SQLAlchemy's
``before_cursor_execute``, over the same database). Two baselines in the same run:
a bare endpoint (an answer of two bytes from the same application) and the login
page. It asserts nothing about speed; it prints the issue's goals beside the figures.

The load is made by one asyncio process (a request is a new connection: gunicorn's
sync workers close each one), so the client costs little next to the server; on a
machine of two cores the client and the server share them, as they did when the
figures in README.md were taken.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import pyotp  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402
from summary_bench import YEARS, fill, settle  # noqa: E402

from auditflow import create_app  # noqa: E402
from auditflow.extensions import db  # noqa: E402
from auditflow.models import Audit, History, Recommendation, User  # noqa: E402
from auditflow.reports import memo  # noqa: E402

BENCH_LOGIN = "bench-audit"
PER_PAGE = 20
DEEP_PAGE = 2000
NOTHING = "찾을수없는검색어"  # three characters or more: the index answers
SOMETHING = "마련하기"  # in every item's text

# The bare endpoint: the same application with one route that does nothing.
WSGI_MODULE = """
from auditflow import create_app

app = create_app()


@app.get("/_bench/bare")
def bare():
    return "ok"
"""


@dataclass
class Result:
    name: str
    path: str
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0
    statements: tuple[int, int] | None = None  # drawn afresh, kept

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def environment(url: str, workdir: Path) -> dict[str, str]:
    return {**os.environ, "AUDITFLOW_ENV": "production", "AUDITFLOW_DATABASE_URL": url,
            "AUDITFLOW_SECRET_KEY": secrets.token_hex(32),
            "AUDITFLOW_STORAGE_DIR": str(workdir / "storage"),
            "AUDITFLOW_QUEUE_PATH": str(workdir / "queue.db"),
            "AUDITFLOW_LOGIN_MAX_FAILURES": "1000"}


def bench_secret(password: str) -> str:
    """bench-audit's TOTP secret (base32), derived from its password."""
    digest = hashlib.sha256(f"auditflow-bench-totp:{password}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def bench_code(password: str) -> str:
    """bench-audit's second-factor code of this moment."""
    return pyotp.TOTP(bench_secret(password)).now()


def fill_database(app: Any, n: int, password: str) -> None:
    from auditflow.models import utcnow
    from auditflow.services.passwords import hash_password

    with app.app_context():
        db.drop_all()
        db.create_all()
        fill(n)
        db.session.add(User(login=BENCH_LOGIN, name="벤치 감사팀", role="audit",
                            password_hash=hash_password(password),
                            totp_secret=bench_secret(password), totp_confirmed_at=utcnow()))
        db.session.commit()
        settle()
        db.session.remove()


@dataclass
class Targets:
    audit_id: int
    as_of: date
    deep_after: str | None
    deep_number: int
    item_id: int


def targets(app: Any) -> Targets:
    """The audit timed (the latest, 20,000 items at 100,000), the cursor of the deepest
    list page up to page 2,000 over every audit, and the item with the longest history."""
    with app.app_context():
        audit = db.session.scalar(select(Audit).where(Audit.year == YEARS[-1]))
        assert audit is not None
        total = db.session.scalar(select(text("count(*)")).select_from(Recommendation)) or 0
        number = max(1, min(DEEP_PAGE, -(-total // PER_PAGE)))
        edge = db.session.execute(
            select(Recommendation.audit_id, Recommendation.number)
            .order_by(Recommendation.audit_id.desc(), Recommendation.number)
            .offset((number - 1) * PER_PAGE - 1).limit(1)).first() if number > 1 else None
        busiest = db.session.scalar(
            select(History.recommendation_id).group_by(History.recommendation_id)
            .order_by(text("count(*) DESC"), History.recommendation_id).limit(1))
        db.session.remove()
    return Targets(audit_id=audit.id, as_of=date(YEARS[-1] + 1, 1, 15),
                   deep_after=f"{edge[0]}.{edge[1]}" if edge else None, deep_number=number,
                   item_id=int(busiest or 1))


def pages(t: Targets) -> list[tuple[str, str, bool]]:
    """(name, path, signed in) of every page timed, baselines first."""
    deep = {"audit": "", "page": t.deep_number, **({"after": t.deep_after} if t.deep_after else {})}
    return [
        ("bare endpoint", "/_bench/bare", False),
        ("login page", "/login", False),
        ("list page 1", f"/recommendations?{urlencode({'audit': ''})}", True),
        (f"list page {t.deep_number:,}", f"/recommendations?{urlencode(deep)}", True),
        ("search, finds", f"/recommendations?{urlencode({'audit': '', 'q': SOMETHING})}", True),
        ("search, nothing", f"/recommendations?{urlencode({'audit': '', 'q': NOTHING})}", True),
        ("item page", f"/recommendations/{t.item_id}", True),
        ("summary", f"/summary?audit={t.audit_id}", True),
        ("summary as of", f"/summary?audit={t.audit_id}&as_of={t.as_of.isoformat()}", True),
    ]


def statements_per_page(app: Any, paths: list[tuple[str, str, bool]],
                        cookie: str) -> dict[str, tuple[int, int]]:
    """The SQL statements one request of each page runs, drawn afresh and with what the
    process keeps while the history stands still (``web/parts.py``; after one request to
    warm it), in this process, with the session the live server's sign-in made (a code is
    good only once)."""
    signed = app.test_client()
    for pair in cookie.split("; "):
        name, _, value = pair.partition("=")
        signed.set_cookie(name, value)
    counted: dict[str, tuple[int, int]] = {}
    with app.app_context():
        engine = db.engine
    for name, path, signed_in in paths:
        if path.startswith("/_bench"):
            continue
        client = signed if signed_in else app.test_client()
        warm = client.get(path)
        assert warm.status_code == 200, f"{name}: {warm.status_code} in process"
        counts = []
        for kept in (False, True):
            if not kept:
                memo.forget()
            found: list[str] = []

            def count(_c: Any, _k: Any, statement: str, *_a: Any, found: list[str] = found) -> None:
                found.append(statement)

            event.listen(engine, "before_cursor_execute", count)
            try:
                client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            counts.append(len(found))
        counted[name] = (counts[0], counts[1])
    return counted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], workdir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    (workdir / "bench_wsgi.py").write_text(WSGI_MODULE, encoding="utf-8")
    port = free_port()
    log = (workdir / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers),
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--timeout", "120", "--chdir", str(workdir), "--pythonpath", str(REPO), "bench_wsgi:app"],
        env=env, start_new_session=True, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        try:
            if requests.get(base + "/_bench/bare", timeout=30).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        if server.poll() is not None:
            raise SystemExit(f"gunicorn did not start (see {workdir / 'gunicorn.log'})")
        time.sleep(0.2)
    stop(server)
    raise SystemExit("gunicorn did not answer")


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def sign_in(base: str, password: str) -> str:
    """Signs bench-audit in (password, then the second factor's code); the session cookie."""
    session = requests.Session()

    def token(page: str) -> str:
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, "the page has no CSRF token"
        return found.group(1)

    answer = session.post(base + "/login", data={
        "csrf_token": token(session.get(base + "/login", timeout=30).text),
        "login": BENCH_LOGIN, "password": password}, allow_redirects=False, timeout=30)
    if answer.status_code == 303 and answer.headers["Location"].endswith("/login/code"):
        answer = session.post(base + "/login/code", data={
            "csrf_token": token(session.get(base + "/login/code", timeout=30).text),
            "code": bench_code(password)}, allow_redirects=False, timeout=30)
    if answer.status_code != 303 or "/login" in answer.headers.get("Location", "/login"):
        raise SystemExit(f"bench-audit could not sign in: {answer.status_code} "
                         f"{answer.headers.get('Location')}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


async def _one(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        while True:  # sync workers close the connection after the answer: read to the end
            chunk = await reader.read(65536)
            if not chunk:
                break
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _load(port: int, request: bytes, seconds: float, connections: int,
                result: Result) -> None:
    deadline = time.perf_counter() + seconds

    async def user() -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                status = await _one(port, request)
            except OSError:
                status = 0
            if status == 200:
                result.latencies.append(time.perf_counter() - began)
            else:
                result.failures += 1

    began = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(connections)))
    result.seconds = time.perf_counter() - began


def load(base: str, name: str, path: str, cookie: str | None, seconds: float,
         connections: int) -> Result:
    port = int(base.rsplit(":", 1)[1])
    headers = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
               "Accept: text/html"]
    if cookie:
        headers.append(f"Cookie: {cookie}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8")
    result = Result(name, path)
    asyncio.run(_load(port, request, seconds, connections, result))
    return result


def report(results: list[Result], label: str, n: int, connections: int, workers: int) -> None:
    print(f"database: {label}  recommendations: {n:,}  connections: {connections}  "
          f"gunicorn sync workers: {workers}")
    print(f"  {'page':<20} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>8} {'failed':>7} {'SQL':>7}")
    for r in results:
        sql = "" if r.statements is None else f"{r.statements[0]}/{r.statements[1]}"
        print(f"  {r.name:<20} {r.percentile(0.5) * 1000:9.1f} {r.percentile(0.95) * 1000:9.1f} "
              f"{r.rps:8.1f} {r.failures:7d} {sql:>7}")
    by = {r.name: r for r in results}
    timed = [r for r in results if r.name not in ("bare endpoint", "login page")]
    first = by["list page 1"]
    deep = next(r for r in results if r.name.startswith("list page ") and r is not first)
    print("  goals:")
    worst = max(timed, key=lambda r: r.percentile(0.95))
    print(f"    every page p95 <= 150 ms: worst {worst.name} {worst.percentile(0.95) * 1000:.1f} ms")
    print(f"    deep list page / page 1 (p50) <= 1.5: "
          f"{deep.percentile(0.5) / first.percentile(0.5):.2f}")
    print(f"    search, nothing / search, finds (p50) <= 1: "
          f"{by['search, nothing'].percentile(0.5) / by['search, finds'].percentile(0.5):.2f}")
    print(f"    list page 1 / login page (req/s) >= 0.5: "
          f"{first.rps / by['login page'].rps:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("-n", type=int, default=100_000, help="recommendations (default 100000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per page (default 10)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="visit every page in turn this many times, each for its share of "
                             "--seconds (default 4)")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--fill-only", action="store_true",
                        help="fill the database and add bench-audit, then exit")
    parser.add_argument("--filled", action="store_true",
                        help="time the database at --url as an earlier --fill-only left it")
    args = parser.parse_args()
    password = os.environ.get("AUDITFLOW_BENCH_PASSWORD")
    if (args.fill_only or args.filled) and not password:
        raise SystemExit("--fill-only and --filled need AUDITFLOW_BENCH_PASSWORD (bench-audit's password)")
    if args.filled and not args.url:
        raise SystemExit("--filled needs --url (the database an earlier --fill-only filled)")
    password = password or f"Bench-{secrets.token_urlsafe(12)}!"
    workdir = Path(tempfile.mkdtemp(prefix="auditflow-pages-bench-"))
    url = args.url or f"sqlite:///{workdir}/bench.db"
    env = environment(url, workdir)
    config = {"AUDITFLOW_ENV": "production", "SECRET_KEY": env["AUDITFLOW_SECRET_KEY"],
              "SQLALCHEMY_DATABASE_URI": url, "STORAGE_DIR": env["AUDITFLOW_STORAGE_DIR"],
              "QUEUE_PATH": env["AUDITFLOW_QUEUE_PATH"], "LOGIN_MAX_FAILURES": 1000}
    app = create_app(config)
    if args.filled:
        with app.app_context():
            args.n = db.session.scalar(select(text("count(*)")).select_from(Recommendation)) or 0
            db.session.remove()
    else:
        began = time.perf_counter()
        fill_database(app, args.n, password)
        print(f"filled {args.n:,} recommendations and {BENCH_LOGIN} in "
              f"{time.perf_counter() - began:.1f} s")
    if args.fill_only:
        return
    t = targets(app)
    paths = pages(t)
    with app.app_context():
        db.engine.dispose()
    server, base = start_server(env, workdir, args.workers)
    try:
        cookie = sign_in(base, password)
        counts = statements_per_page(app, paths, cookie)
        with app.app_context():
            db.engine.dispose()
        for name, path, signed_in in paths:
            load(base, name, path, cookie if signed_in else None, min(1.0, args.seconds),
                 args.connections)  # warm each worker's caches
        # Every page in turn, --rounds times over, each for its share of --seconds: a machine
        # whose speed drifts during the run (a neighbour's load) slows every page alike, and
        # the ratios to the baselines stay those of the same moments.
        results = [Result(name, path, statements=counts.get(name)) for name, path, _ in paths]
        for _ in range(args.rounds):
            for result, (name, path, signed_in) in zip(results, paths, strict=True):
                part = load(base, name, path, cookie if signed_in else None,
                            args.seconds / args.rounds, args.connections)
                result.latencies += part.latencies
                result.failures += part.failures
                result.seconds += part.seconds
    finally:
        stop(server)
    label = url.split(":")[0].split("+")[0]
    report(results, label, args.n, args.connections, args.workers)
    if any(r.failures for r in results):
        raise SystemExit("some requests failed (see the failed column)")


if __name__ == "__main__":
    main()
