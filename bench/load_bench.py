"""Benchmark: load and endurance under the production command (``make prod``) on PostgreSQL.

    python bench/load_bench.py [--url URL] [--queue-url URL] [-n 100000] [--workers 2 4]
                               [--users 100] [--minutes 10] [--spawn-rate 5] [--think 1-3]
                               [--fill-only]

For each gunicorn worker count given (``--workers 2 4``: one run after the other), it
recreates the PostgreSQL database of ``--url`` (default ``bench_load``; never ``test``, the
suite's), migrates it (``flask db upgrade``), fills it with N recommendations as the summary
benchmark does (``bench/summary_bench.py``), adds the people of the run (one department user
per locust user over the ten teams, and as many audit-team users with an authenticator app
enrolled, all with the password ``AUDITFLOW_BENCH_PASSWORD``, made up when unset), and starts
``make prod`` on it: the migration, ``flask production check``, then gunicorn with
deploy/gunicorn.conf.py (``AUDITFLOW_WEB_WORKERS``) and the Huey worker, on the Redis queue of
``--queue-url``. ``--fill-only`` stops after the fill (for a server started by hand).

Then locust (``bench/locustfile.py``), headless, signs in ``--users`` people (80% team users,
20% audit-team users with their second factor, ``--spawn-rate`` a second) and has them work for
``--minutes`` in the issue's mix: reads of lists, items and the summary 70%, result edits and
comments 20%, uploads 5%, triggers 5%, a pause of ``--think`` seconds between two tasks.
Every change goes through the item page's own form, as a browser posts it.

While it runs this samples, every two seconds, the memory (RSS) of every gunicorn worker and
of the Huey worker (psutil) and the database's connections (``pg_stat_activity``). Afterwards
it prints, per kind of request, the requests per second and p50/p95/p99 (locust's figures), the
outcomes (ok, conflict, refused, server error), then checks every change the clients were told
was made against the database: the result edit in the history, the comment in its table, the
upload in the evidence and the history, the trigger in the history (lost writes); and whether
every touched item's state is the one its history ends in. It asserts nothing; the issue's
goals are printed beside the figures (0 server errors, 0 lost writes, no worker's memory growing
by more than 20%).

The client and the server share the machine: locust's own CPU time is printed with the rest.
All requests come from one address, so the bench lifts the sign-in limit per address
(``AUDITFLOW_LOGIN_RATE_LIMIT``), which a hundred people at a hundred desks never meet.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import psutil  # noqa: E402
import pyotp  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
from summary_bench import fill, settle  # noqa: E402

from auditflow import create_app  # noqa: E402
from auditflow.extensions import db  # noqa: E402
from auditflow.models import Comment, Evidence, History, OrgUnit, User, utcnow  # noqa: E402
from auditflow.vocabulary import Field, HistoryKind, Role  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"
DEFAULT_QUEUE = "redis://127.0.0.1:6379/12"  # the tests use 13 (make prod smoke) and 15 (notifications)
SAMPLE_SECONDS = 2.0
MIN_LIFE_SECONDS = 30  # a worker's growth counts when it served at least this long
WARM_SECONDS = 60  # a worker started during the run is weighed from this long after its start
SHELLS = frozenset({"sh", "bash", "dash"})
KINDS = ("list", "item", "summary", "result", "comment", "upload", "trigger", "sign in")
LABELS = {"list": "list page", "item": "item page", "summary": "summary", "result": "result edit",
          "comment": "comment", "upload": "upload", "trigger": "trigger", "sign in": "sign in"}


# ── the database ──────────────────────────────────────────────────────────────────────────

def recreate_database(url: URL) -> None:
    if url.get_backend_name() != "postgresql":
        raise SystemExit("the load benchmark runs on PostgreSQL: give a postgresql+psycopg:// URL")
    name = url.database or ""
    if name in ("test", "postgres", "template0", "template1", ""):
        raise SystemExit(f"refusing to recreate the database {name!r}: give one of its own "
                         "(default bench_load)")
    admin = create_engine(url.set(database="postgres"), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def flask_command(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(REPO / ".venv" / "bin" / "flask"), "--app", "auditflow", *args],
                          cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stderr[-3000:]}")


@dataclass
class Account:
    login: str
    password: str
    kind: str  # "team" or "audit": the locust user class that signs in with it
    totp_secret: str | None = None


def add_people(users: int, password: str) -> list[Account]:
    """One department user per locust user over the ten teams, and as many audit-team users
    (each enrolled with an authenticator app: production asks reviewers for the code)."""
    from auditflow.services.passwords import hash_password

    digest = hash_password(password)  # one hash for all: the same password, hashed once
    teams = list(db.session.scalars(select(OrgUnit).order_by(OrgUnit.sort_order)))
    accounts: list[Account] = []
    for i in range(users):
        team = teams[i % len(teams)]
        login = f"bench-{team.code}-{i // len(teams) + 1}"
        db.session.add(User(login=login, name=f"벤치 {team.name} {i // len(teams) + 1}",
                            role=Role.DEPARTMENT.value, team=team, password_hash=digest))
        accounts.append(Account(login, password, "team"))
    for i in range(users):
        login, secret = f"bench-audit-{i + 1}", pyotp.random_base32()
        db.session.add(User(login=login, name=f"벤치 감사팀 {i + 1}", role=Role.AUDIT.value,
                            password_hash=digest, totp_secret=secret,
                            totp_confirmed_at=utcnow()))
        accounts.append(Account(login, password, "audit", secret))
    db.session.commit()
    return accounts


def fill_database(app: Any, n: int, users: int, password: str) -> list[Account]:
    with app.app_context():
        fill(n)
        accounts = add_people(users, password)
        settle()
        db.session.remove()
        db.engine.dispose()
    return accounts


# ── the production stack ─────────────────────────────────────────────────────────────────

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(url: str, queue_url: str, workdir: Path, workers: int,
                max_requests: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    if max_requests is not None:
        env["AUDITFLOW_WEB_MAX_REQUESTS"] = str(max_requests)
    return {**env, "AUDITFLOW_ENV": "production", "AUDITFLOW_DATABASE_URL": url,
            "AUDITFLOW_QUEUE_URL": queue_url, "AUDITFLOW_SECRET_KEY": secrets.token_hex(32),
            "AUDITFLOW_STORAGE_DIR": str(workdir / "storage"),
            "AUDITFLOW_WEB_WORKERS": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
            # every client is 127.0.0.1: the limit per address would stop the 31st sign-in
            "AUDITFLOW_LOGIN_RATE_LIMIT": "100000 per minute"}


def start_production(env: dict[str, str], workdir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (workdir / "prod.log").open("wb")
    server = subprocess.Popen(["make", "--no-print-directory", "prod", "HOST=127.0.0.1",
                               f"PORT={port}"], cwd=REPO, env=env, start_new_session=True,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.perf_counter() + 600  # make prod may install first (pyproject.toml changed)
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"make prod stopped (see {workdir / 'prod.log'})")
        try:
            ready = requests.get(base + "/readyz", timeout=30).status_code == 200
            if ready and len(processes(server)[0]) >= workers:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop(server)
    raise SystemExit(f"make prod did not answer (see {workdir / 'prod.log'})")


def processes(server: subprocess.Popen[bytes]) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """The gunicorn workers (the master's children) and the Huey worker, under make prod."""
    gunicorn_workers, queue_workers = [], []
    try:
        tree = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return [], []
    for proc in tree:
        try:
            line = " ".join(proc.cmdline())
            parent = proc.parent()
            # honcho starts each line of Procfile.prod with a shell: the master's parent is
            # that shell, a worker's parent is the master itself
            parent_is_master = (parent is not None and parent.name() not in SHELLS
                                and "gunicorn" in " ".join(parent.cmdline()))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "gunicorn" in line and parent_is_master:
            gunicorn_workers.append(proc)
        elif "auditflow worker" in line and "env " not in line:
            queue_workers.append(proc)
    return gunicorn_workers, queue_workers


def stop(server: subprocess.Popen[bytes]) -> None:
    """As Ctrl-C stops make prod (honcho stops both), then harder if that is not enough."""
    for sig, wait in ((signal.SIGINT, 60), (signal.SIGTERM, 30), (signal.SIGKILL, 30)):
        try:
            os.killpg(server.pid, sig)
            server.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


# ── sampling while it runs ───────────────────────────────────────────────────────────────

@dataclass
class Life:
    """One process's memory over the run: (seconds into the run, RSS) every sample."""

    name: str
    series: list[tuple[float, int]] = field(default_factory=list)

    @property
    def first_at(self) -> float:
        return self.series[0][0]

    @property
    def last_at(self) -> float:
        return self.series[-1][0]

    def at(self, moment: float) -> tuple[float, int]:
        """The first sample at or after ``moment`` (the last one when none is)."""
        return next((s for s in self.series if s[0] >= moment), self.series[-1])

    @property
    def peak(self) -> int:
        return max(rss for _t, rss in self.series)


@dataclass
class Samples:
    memory: dict[int, Life] = field(default_factory=dict)
    connections: list[int] = field(default_factory=list)
    in_use: list[int] = field(default_factory=list)  # in a transaction: a request holds it
    stop: threading.Event = field(default_factory=threading.Event)


def sample(server: subprocess.Popen[bytes], url: URL, began: float, out: Samples) -> None:
    engine = create_engine(url, poolclass=NullPool)
    query = text("SELECT state, count(*) FROM pg_stat_activity WHERE datname = current_database()"
                 " AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY state")
    while not out.stop.is_set():
        now = time.perf_counter() - began
        web, queue = processes(server)
        for name, procs in (("gunicorn worker", web), ("huey worker", queue)):
            for proc in procs:
                try:
                    rss = proc.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                out.memory.setdefault(proc.pid, Life(name)).series.append((now, rss))
        try:
            with engine.connect() as conn:
                by_state = {state or "": int(n) for state, n in conn.execute(query)}
            out.connections.append(sum(by_state.values()))
            out.in_use.append(sum(n for state, n in by_state.items() if state != "idle"))
        except Exception as failed:  # noqa: BLE001 — a missed sample is not the run's end
            print(f"  (connection sample failed: {failed})", file=sys.stderr)
        out.stop.wait(SAMPLE_SECONDS)
    engine.dispose()


# ── locust ───────────────────────────────────────────────────────────────────────────────

def run_locust(base: str, workdir: Path, args: argparse.Namespace) -> tuple[float, float]:
    """Run the users; return locust's wall-clock seconds and its CPU seconds."""
    env = {**os.environ, "LOADBENCH_ACCOUNTS": str(workdir / "accounts.json"),
           "LOADBENCH_OUT": str(workdir), "LOADBENCH_THINK": args.think,
           "LOADBENCH_USERS": str(args.users)}
    seconds = max(1, round(args.minutes * 60))
    log = (workdir / "locust.log").open("wb")
    began = time.perf_counter()
    proc = psutil.Popen(
        [str(REPO / ".venv" / "bin" / "locust"), "-f", str(REPO / "bench" / "locustfile.py"),
         "--headless", "--host", base, "--users", str(args.users),
         "--spawn-rate", str(args.spawn_rate), "--run-time", f"{seconds}s",
         "--stop-timeout", "30", "--csv", str(workdir / "locust"), "--only-summary",
         "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    cpu = 0.0
    while proc.poll() is None:
        try:
            times = proc.cpu_times()
            cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(1)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"locust failed ({proc.returncode}): see {workdir / 'locust.log'}")
    return wall, cpu


@dataclass
class Kind:
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def locust_stats(workdir: Path) -> dict[str, Kind]:
    by_kind: dict[str, Kind] = {}
    with (workdir / "locust_stats.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                name = "all"
            elif row["Name"] in KINDS:
                name = row["Name"]
                if name in by_kind:  # "sign in" is a GET and a POST: add them up
                    old = by_kind[name]
                    by_kind[name] = Kind(old.requests + int(row["Request Count"]),
                                         old.failures + int(row["Failure Count"]),
                                         old.rps + float(row["Requests/s"]),
                                         max(old.p50, float(row["50%"])),
                                         max(old.p95, float(row["95%"])),
                                         max(old.p99, float(row["99%"])))
                    continue
            else:
                continue
            by_kind[name] = Kind(int(row["Request Count"]), int(row["Failure Count"]),
                                 float(row["Requests/s"]), float(row["50%"]), float(row["95%"]),
                                 float(row["99%"]))
    return by_kind


# ── lost writes ──────────────────────────────────────────────────────────────────────────

@dataclass
class Check:
    told: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    unconfirmed: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    out_of_step: int = 0


def check_writes(app: Any, workdir: Path, since: datetime) -> Check:
    """Every change a client was told was made, looked for in the database and its history."""
    path = workdir / "writes.jsonl"
    writes = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
              if line.strip()] if path.exists() else []
    check = Check()
    with app.app_context():
        logins = dict(db.session.execute(select(User.id, User.login)).all())
        rows = db.session.scalars(select(History).where(History.at >= since)).all()
        comments = db.session.scalars(select(Comment).where(Comment.created_at >= since)).all()
        evidence = db.session.scalars(select(Evidence).where(Evidence.uploaded_at >= since)).all()
        results = {(h.recommendation_id, h.new_value or "") for h in rows
                   if h.kind == HistoryKind.RESULT and h.field == Field.ACTION_DETAILS}
        transitions = [h for h in rows if h.kind == HistoryKind.TRANSITION]
        by_reason = {(h.recommendation_id, h.trigger, h.comment or "") for h in transitions}
        plain = Counter((h.recommendation_id, h.trigger, logins.get(h.actor_id or 0))
                        for h in transitions if not (h.comment or "").startswith("벤치 사유"))
        said = {(c.recommendation_id, c.body) for c in comments}
        uploaded = {(e.recommendation_id, e.original_name) for e in evidence}
        evidence_rows = {(h.recommendation_id, h.new_value or "") for h in rows
                         if h.kind == HistoryKind.EVIDENCE}
        plain_told: Counter[tuple[int, str, str]] = Counter()
        for w in writes:
            kind, item, token = w["kind"], int(w["item"]), w.get("token")
            check.told[kind] += 1
            if kind == "result":
                found = any(i == item and token in v for i, v in results)
            elif kind == "comment":
                found = (item, f"벤치 의견 {token}") in said
            elif kind == "upload":
                found = (any(i == item and token in name for i, name in uploaded)
                         and any(i == item and token in name for i, name in evidence_rows))
            elif token:
                found = (item, w["trigger"], f"벤치 사유 {token}") in by_reason
            else:
                plain_told[(item, w["trigger"], w["login"])] += 1
                continue
            if not found:
                check.lost[kind] += 1
                check.examples.append(json.dumps(w, ensure_ascii=False))
        for key, n in plain_told.items():  # triggers without a reason box: counted
            if plain[key] < n:
                check.lost["trigger"] += n - plain[key]
                check.examples.append(f"trigger {key}: told {n}, history {plain[key]}")
        # Done on the server, the client not told (an answer cut off when the run ended).
        bench = {login for login in logins.values() if login and login.startswith("bench-")}
        made = Counter()
        for h in rows:
            if logins.get(h.actor_id or 0) in bench:
                if h.kind == HistoryKind.RESULT and h.field == Field.ACTION_DETAILS:
                    made["result"] += 1
                elif h.kind == HistoryKind.EVIDENCE:
                    made["upload"] += 1
                elif h.kind == HistoryKind.TRANSITION:
                    made["trigger"] += 1
        made["comment"] = len(comments)
        for kind in ("result", "comment", "upload", "trigger"):
            check.unconfirmed[kind] = max(0, made[kind] - (check.told[kind] - check.lost[kind]))
        # Each item the run touched is in the state its history ends in.
        check.out_of_step = int(db.session.scalar(text("""
            SELECT count(*) FROM recommendation r JOIN (
              SELECT DISTINCT ON (recommendation_id) recommendation_id, to_state FROM history
               WHERE to_state IS NOT NULL ORDER BY recommendation_id, at DESC, id DESC
            ) last ON last.recommendation_id = r.id
            WHERE r.id IN (SELECT recommendation_id FROM history WHERE at >= :since)
              AND last.to_state <> r.state"""), {"since": since}) or 0)
        db.session.remove()
        db.engine.dispose()
    return check


# ── the report ───────────────────────────────────────────────────────────────────────────

def mib(n: float) -> str:
    return f"{n / 2**20:.0f}"


def report(workers: int, args: argparse.Namespace, stats: dict[str, Kind],
           outcomes: dict[str, dict[str, int]], samples: Samples, check: Check,
           wall: float, cpu: float, load_from: float) -> None:
    print(f"\n== {workers} gunicorn workers (gthread, {os.environ.get('AUDITFLOW_WEB_THREADS') or 8}"
          f" threads), {args.users} users, {args.minutes:g} min, {args.n:,} items ==")
    total = stats.get("all")
    print(f"  {'kind':<12} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
          f"  outcomes")
    counted = sum(s.requests for k, s in stats.items() if k not in ("all", "sign in"))
    for kind in KINDS:
        s = stats.get(kind)
        if s is None:
            continue
        said = ", ".join(f"{o} {n}" for o, n in sorted(outcomes.get(kind, {}).items(),
                                                       key=lambda x: -x[1]))
        share = "" if kind == "sign in" or not counted else f" {100 * s.requests / counted:3.0f}%"
        print(f"  {LABELS[kind]:<12} {s.requests:8d} {s.rps:7.1f} {s.p50:7.0f} {s.p95:7.0f} "
              f"{s.p99:7.0f}  {said}{' ' if said else ''}{share}")
    if total:
        print(f"  {'all':<12} {total.requests:8d} {total.rps:7.1f} {total.p50:7.0f} "
              f"{total.p95:7.0f} {total.p99:7.0f}  failures {total.failures}")
    server_errors = sum(n for per in outcomes.values() for o, n in per.items()
                        if o.startswith("server error"))
    no_answer = sum(n for per in outcomes.values() for o, n in per.items() if o == "no answer")
    signed_out = sum(n for per in outcomes.values() for o, n in per.items() if o == "signed out")
    print(f"  locust: {wall:.0f} s, CPU {cpu:.0f} s ({100 * cpu / wall:.0f}% of a core)")
    print(f"  memory (RSS MiB) of each process: when first seen; when every user had signed in "
          f"(~{load_from:.0f} s), or {WARM_SECONDS} s after a later start; at the end; the "
          "peak; end / then")
    growths = []
    for pid, life in sorted(samples.memory.items(), key=lambda x: (x[1].name, x[1].first_at)):
        # a worker started during the run is weighed once it is warm (its first minute
        # loads modules, templates and caches), as the first ones are once all signed in
        warm = load_from if life.first_at <= load_from else life.first_at + WARM_SECONDS
        start_at, start = life.at(warm)
        end = life.series[-1][1]
        growth = 100 * (end - start) / start
        if life.name == "gunicorn worker" and life.last_at - start_at >= MIN_LIFE_SECONDS:
            growths.append((growth, pid, life.last_at - start_at))
        print(f"    {life.name:<15} pid {pid:<7} {mib(life.series[0][1]):>4} at {life.first_at:4.0f} s"
              f"  {mib(start):>4} at {start_at:4.0f} s  {mib(end):>4} at {life.last_at:4.0f} s"
              f"  peak {mib(life.peak):>4}  {growth:+.0f}%")
    replaced = sum(1 for life in samples.memory.values() if life.name == "gunicorn worker") - workers
    if samples.connections:
        print(f"  database connections: open max {max(samples.connections)}, median "
              f"{statistics.median(samples.connections):.0f}; in use (in a statement or a "
              f"transaction) max {max(samples.in_use)}, median "
              f"{statistics.median(samples.in_use):.0f} ({len(samples.connections)} samples, "
              f"every {SAMPLE_SECONDS:g} s)")
    print("  writes the clients were told were made, then looked for in the database:")
    for kind in ("result", "comment", "upload", "trigger"):
        print(f"    {LABELS[kind]:<12} told {check.told[kind]:6d}  lost {check.lost[kind]:4d}  "
              f"made but not told {check.unconfirmed[kind]:3d}")
    for example in check.examples[:5]:
        print(f"    lost: {example}")
    print(f"    items touched whose state is not the one their history ends in: "
          f"{check.out_of_step}")
    print("  goals:")
    print(f"    0 server errors: {server_errors} (and {no_answer} requests without an answer, "
          f"{signed_out} sent to the sign-in page)")
    print(f"    0 lost writes: {sum(check.lost.values())}")
    worst = max(growths, default=None)
    print("    no gunicorn worker growing by more than 20% from when every user had signed in (or "
          f"{WARM_SECONDS} s after its start) to its end: "
          + (f"worst {worst[0]:+.0f}% (pid {worst[1]}, over {worst[2]:.0f} s)" if worst
             else f"no worker served {MIN_LIFE_SECONDS} s")
          + f"; {max(replaced, 0)} workers replaced during the run (gunicorn's max_requests)")


# ── one run ──────────────────────────────────────────────────────────────────────────────

def run(workers: int, args: argparse.Namespace, password: str) -> None:
    url = make_url(args.url)
    workdir = Path(tempfile.mkdtemp(prefix=f"auditflow-load-bench-{workers}w-"))
    env = environment(args.url, args.queue_url, workdir, workers, args.max_requests)
    began = time.perf_counter()
    recreate_database(url)
    flask_command(env, "db", "upgrade")
    config = {"AUDITFLOW_ENV": "production", "SECRET_KEY": env["AUDITFLOW_SECRET_KEY"],
              "SQLALCHEMY_DATABASE_URI": args.url, "STORAGE_DIR": env["AUDITFLOW_STORAGE_DIR"],
              "QUEUE_URL": args.queue_url}
    app = create_app(config)
    accounts = fill_database(app, args.n, args.users, password)
    (workdir / "accounts.json").write_text(
        json.dumps([a.__dict__ for a in accounts], ensure_ascii=False), encoding="utf-8")
    (workdir / "accounts.json").chmod(0o600)
    print(f"filled {args.n:,} recommendations and {len(accounts)} users in "
          f"{time.perf_counter() - began:.1f} s ({url.database}; files in {workdir})", flush=True)
    if args.fill_only:
        return
    server, base = start_production(env, workdir, workers)
    samples = Samples()
    try:
        since = utcnow() - timedelta(seconds=1)
        t0, t0_wall = time.perf_counter(), time.time()
        sampler = threading.Thread(target=sample, args=(server, url, t0, samples), daemon=True)
        sampler.start()
        wall, cpu = run_locust(base, workdir, args)
        samples.stop.set()
        sampler.join(timeout=30)
    finally:
        stop(server)
    marker = workdir / "signed_in"  # written by the locustfile when the last user signed in
    load_from = (float(marker.read_text(encoding="utf-8")) - t0_wall if marker.exists()
                 else args.users / args.spawn_rate)
    outcomes = json.loads((workdir / "outcomes.json").read_text(encoding="utf-8"))
    refusals = json.loads((workdir / "refusals.json").read_text(encoding="utf-8"))
    check = check_writes(app, workdir, since)
    report(workers, args, locust_stats(workdir), outcomes, samples, check, wall, cpu, load_from)
    for kind, examples in refusals.items():
        for example in examples[:2]:
            print(f"  a refused {LABELS.get(kind, kind)}: {example}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL,
                        help=f"PostgreSQL database, recreated (default {DEFAULT_URL})")
    parser.add_argument("--queue-url", default=DEFAULT_QUEUE,
                        help=f"Redis queue of the worker (default {DEFAULT_QUEUE})")
    parser.add_argument("-n", type=int, default=100_000, help="recommendations (default 100000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4],
                        help="gunicorn worker counts, one run each (default: 2 4)")
    parser.add_argument("--users", type=int, default=100, help="people signed in (default 100)")
    parser.add_argument("--max-requests", type=int, default=None,
                        help="requests before gunicorn replaces a worker (default production's, "
                             "2000; 0: never, to see whether a worker's memory grows)")
    parser.add_argument("--minutes", type=float, default=10.0, help="of work (default 10)")
    parser.add_argument("--spawn-rate", type=float, default=5.0,
                        help="people signing in per second (default 5)")
    parser.add_argument("--think", default="1-3",
                        help="seconds between two tasks of a person, drawn evenly (default 1-3)")
    parser.add_argument("--fill-only", action="store_true",
                        help="recreate and fill the database, add the people, then exit")
    args = parser.parse_args()
    password = os.environ.get("AUDITFLOW_BENCH_PASSWORD")
    if args.fill_only and not password:
        raise SystemExit("--fill-only needs AUDITFLOW_BENCH_PASSWORD (the people's password)")
    password = password or f"Bench-{secrets.token_urlsafe(12)}!"
    for workers in args.workers:
        run(workers, args, password)
        if args.fill_only:
            return


if __name__ == "__main__":
    main()
