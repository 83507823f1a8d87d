"""Benchmark: the summary engine against a raw SQL GROUP BY over the same rows.

    python bench/summary_bench.py [--url URL] [-n 100000] [--repeat 7]

Fills a fresh database (a temporary SQLite file by default; any PostgreSQL URL
works, and its tables are dropped first) with N recommendations spread over
five audit years, three categories and ten teams, each with the history rows
that bring it to its state. Then, in the same run, it times:

- summary          ``summarize(audit)``: current states, one grouped query
- summary as of    ``summarize(audit, as_of)``: states rebuilt from history
- raw GROUP BY     ``SELECT category, state, count(*) ... GROUP BY`` on the same audit
- raw as-of SQL    the same question as hand-written SQL: per item, the latest state row
                   and category row by the cutoff (correlated subqueries on the history index)
- window as-of SQL the textbook alternative, a window function over the history (states only)

and prints each median and the ratios against the raw SQL baselines. It
asserts nothing about speed. The data are written with bulk INSERTs, as a
loader would, not through the workflow: firing 300,000 triggers one by one
would measure the loader, not the summary.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from auditflow import create_app  # noqa: E402
from auditflow.extensions import db  # noqa: E402
from auditflow.models import Audit, History, OrgUnit, Recommendation, User  # noqa: E402
from auditflow.models.chain import CHAIN_COLUMNS, GENESIS, ChainHead, link  # noqa: E402
from auditflow.reports.summary import summarize  # noqa: E402

PATHS = {
    "received": [],
    "in_progress": ["start"],
    "reviewing": ["start", "submit"],
    "completed": ["start", "submit", "approve"],
    "not_reflected": ["start", "submit", "decline"],
}
DEST = {"start": "in_progress", "submit": "reviewing", "approve": "completed", "decline": "not_reflected"}
WEIGHTS = {"received": 5, "in_progress": 20, "reviewing": 10, "completed": 60, "not_reflected": 5}
YEARS = [2021, 2022, 2023, 2024, 2025]


def fill(n: int, seed: int = 7) -> dict[int, Audit]:
    rng = random.Random(seed)
    teams = [OrgUnit(code=f"t{i}", name=f"벤치{i}팀", kind="team", sort_order=i) for i in range(10)]
    db.session.add_all(teams)
    actor = User(login="bench", name="벤치", role="audit")
    db.session.add(actor)
    audits = {year: Audit(year=year, title=f"{year} 행정사무감사", body="서울특별시의회",
                          organisation="벤치재단", received_on=date(year, 11, 10)) for year in YEARS}
    db.session.add_all(audits.values())
    db.session.commit()
    states, weights = zip(*WEIGHTS.items(), strict=True)
    categories = ["corrective", "suggestion", "other"]
    batch = 5000
    history: list[dict] = []
    next_id = 1
    numbers = dict.fromkeys(YEARS, 0)
    for start in range(0, n, batch):
        recs, rows = [], []
        for _ in range(min(batch, n - start)):
            year = YEARS[next_id % len(YEARS)]
            numbers[year] += 1
            state = rng.choices(states, weights)[0]
            category = rng.choice(categories)
            created = datetime(year, 11, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
            recs.append({"id": next_id, "audit_id": audits[year].id, "number": numbers[year],
                         "category": category, "council_text": "방안을 마련하기 바람.",
                         "lead_team_id": rng.choice(teams).id, "state": state,
                         # an item handed over for review carries its result (a CHECK constraint)
                         "action_details": "ㅇ 조치 완료" if state != "received" else "",
                         "version": 1 + len(PATHS[state]), "created_at": created, "updated_at": created})
            rows.append({"recommendation_id": next_id, "at": created, "actor_id": actor.id,
                         "kind": "created", "to_state": "received"})
            # as registration does: the category it was registered with
            rows.append({"recommendation_id": next_id, "at": created, "actor_id": actor.id,
                         "kind": "text", "field": "category", "new_value": category})
            moment, previous = created, "received"
            for trigger in PATHS[state]:
                moment += timedelta(days=rng.randrange(1, 60))
                rows.append({"recommendation_id": next_id, "at": moment, "actor_id": actor.id,
                             "kind": "transition", "trigger": trigger, "from_state": previous,
                             "to_state": DEST[trigger]})
                previous = DEST[trigger]
            next_id += 1
        db.session.execute(insert(Recommendation), recs)
        db.session.commit()
        history.extend(rows)
    _chained_history(history, batch)
    return audits


def settle() -> None:
    """What autovacuum does a minute after a bulk load, on PostgreSQL: statistics (without
    them the planner takes 20,000 items for five and nests loops over them) and a vacuum
    (until one, the text indexes (GIN) keep the new rows in a list every search reads
    through: 130 ms for a term found nowhere, 0.05 ms after)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def _chained_history(rows: list[dict], batch: int) -> None:
    """The history rows in time order, each hashed into the history chain as the application
    hashes its own (models/chain.py), and the chain's head: a database ``flask integrity
    verify`` accepts, whose head names its state (reports/memo.py)."""
    columns = [column.name for column in History.__table__.columns
               if column.name != "id" and column.name not in CHAIN_COLUMNS]
    rows.sort(key=lambda row: row["at"])  # stable: an item's rows keep their order
    head = db.session.get(ChainHead, "history")  # a migrated database has one, empty
    start, prev = (head.length, head.head) if head is not None else (0, GENESIS)
    for seq, row in enumerate(rows, start=start + 1):
        values = {name: row.get(name) for name in columns}
        row.update(values, chain_seq=seq, chain_prev=prev)
        prev = row["chain_hash"] = link(prev, seq, values)
    for start in range(0, len(rows), batch):
        db.session.execute(insert(History), rows[start:start + batch])
    if head is None:
        head = ChainHead(name="history")
        db.session.add(head)
    head.length, head.head = start + len(rows), prev
    db.session.commit()


RAW_AS_OF = """
SELECT category, state, count(*) FROM (
  SELECT coalesce((SELECT h.new_value FROM history h
                    WHERE h.recommendation_id = r.id AND h.field = 'category' AND h.at < :cutoff
                    ORDER BY h.at DESC, h.id DESC LIMIT 1), r.category) AS category,
         (SELECT h.to_state FROM history h
           WHERE h.recommendation_id = r.id AND h.to_state IS NOT NULL AND h.at < :cutoff
           ORDER BY h.at DESC, h.id DESC LIMIT 1) AS state
  FROM recommendation r WHERE r.audit_id = :audit
) items WHERE state IS NOT NULL GROUP BY category, state
"""
RAW_AS_OF_WINDOW = """
SELECT category, state, count(*) FROM (
  SELECT r.category AS category, h.to_state AS state,
         row_number() OVER (PARTITION BY h.recommendation_id ORDER BY h.at DESC, h.id DESC) AS rn
  FROM recommendation r JOIN history h ON h.recommendation_id = r.id
  WHERE r.audit_id = :audit AND h.to_state IS NOT NULL AND h.at < :cutoff
) latest WHERE rn = 1 GROUP BY category, state
"""
RAW_NOW = "SELECT category, state, count(*) FROM recommendation WHERE audit_id = :audit GROUP BY category, state"


def timed(func, repeat: int) -> float:
    func()  # warm the caches and the statement cache
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("-n", type=int, default=100_000, help="recommendations (default 100000)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="auditflow-bench-")
    url = args.url or f"sqlite:///{workdir}/bench.db"
    app = create_app({"AUDITFLOW_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "STORAGE_DIR": f"{workdir}/storage"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        began = time.perf_counter()
        audits = fill(args.n)
        fill_seconds = time.perf_counter() - began
        audit = audits[YEARS[-1]]
        as_of = date(YEARS[-1] + 1, 1, 15)
        cutoff = datetime(as_of.year, as_of.month, as_of.day, 15, tzinfo=UTC)  # end of day in Seoul
        history_rows = db.session.scalar(text("SELECT count(*) FROM history"))
        in_audit = db.session.scalar(text("SELECT count(*) FROM recommendation WHERE audit_id = :a"),
                                     {"a": audit.id})

        def raw_now():
            db.session.execute(text(RAW_NOW), {"audit": audit.id}).all()

        def raw_as_of():
            bind = cutoff.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else cutoff
            db.session.execute(text(RAW_AS_OF), {"audit": audit.id, "cutoff": bind}).all()

        def window_as_of():
            bind = cutoff.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else cutoff
            db.session.execute(text(RAW_AS_OF_WINDOW), {"audit": audit.id, "cutoff": bind}).all()

        results = {
            "summary": timed(lambda: summarize(audit), args.repeat),
            "raw GROUP BY": timed(raw_now, args.repeat),
            "summary as of": timed(lambda: summarize(audit, as_of), args.repeat),
            "raw as-of SQL": timed(raw_as_of, args.repeat),
            "window as-of SQL": timed(window_as_of, args.repeat),
        }
        # the engine and the raw SQL must agree, or the timing means nothing
        bind = cutoff.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else cutoff
        raw = db.session.execute(text(RAW_AS_OF), {"audit": audit.id, "cutoff": bind}).all()
        if summarize(audit, as_of).total.total != sum(count for _c, _s, count in raw):
            raise SystemExit("the summary and the raw SQL disagree")
        db.session.remove()
        db.drop_all()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {url.split(':')[0].split('+')[0]}  "
          f"recommendations: {args.n:,}  history rows: {history_rows:,}  "
          f"in the timed audit: {in_audit:,}  fill: {fill_seconds:.1f} s  peak RSS: {peak_mib:.0f} MiB")
    for name, seconds in results.items():
        print(f"  {name:<16} median {seconds * 1000:9.2f} ms")
    print(f"  ratio summary / raw GROUP BY     {results['summary'] / results['raw GROUP BY']:.2f}")
    print(f"  ratio summary as of / raw as-of  {results['summary as of'] / results['raw as-of SQL']:.2f}")
    print(f"  ratio summary as of / window SQL {results['summary as of'] / results['window as-of SQL']:.2f}")


if __name__ == "__main__":
    main()
