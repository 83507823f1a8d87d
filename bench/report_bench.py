"""Benchmark: the council report in every format, and WeasyPrint's floor on the same texts.

    python bench/report_bench.py [--sizes 100,1000,5000] [--repeat 3] [--workers N] [--only pdf]

For each size N it fills a fresh SQLite database with the seed (organisation, users,
the 2025 audit) and one more audit of N items whose texts, states and teams are the
seed's items drawn at random (a fixed seed), builds the report and, in the same run,
times:

- html, pdf, hwpx, xlsx, csv   each writer on that report (the PDF as downloaded)
- pdf, tagged                  the PDF as an issued edition has it: tagged, PDF/UA-1
- pdf, one rendering           the PDF rendered at once in one process (no parts)
- bare table                   WeasyPrint alone on a bare HTML table of the same texts
                               (council text | result lines), no stylesheet: the floor
- bare table, fixed            the same table with ``table-layout: fixed`` and its widths

Every measurement runs in a process of its own, forked from the one that holds the
database, so each peak memory is that format's alone: ``peak`` is the process's peak
RSS, and for the PDF also its renderings of parts (bridges included): their number, CPU
time, the longest one and the largest peak of the processes that rendered them. It
prints medians, each measurement's CPU time (for the PDF this process and its rendering
processes together: on a busy machine the CPU time says more than the clock), its pages
and the ratios of the PDF to one rendering and to the floors. It asserts nothing about
speed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from auditflow import create_app  # noqa: E402
from auditflow.extensions import db  # noqa: E402
from auditflow.models import Audit, Recommendation  # noqa: E402
from auditflow.reports import FORMATS, writer  # noqa: E402
from auditflow.reports.content import Report, build_report  # noqa: E402
from auditflow.services.seeding import load  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
YEAR = 2030  # the benchmark's audit, beside the seed's 2025


def fill(n: int, seed: int = 7) -> Audit:
    """One audit of ``n`` items, each a copy of one of the seed's (text, state, team)."""
    rng = random.Random(seed)
    source = db.session.scalars(db.select(Recommendation).order_by(Recommendation.id)).all()
    audit = Audit(year=YEAR, title=f"{YEAR} 행정사무감사", body="서울특별시의회",
                  organisation=source[0].audit.organisation, received_on=date(YEAR, 11, 10))
    db.session.add(audit)
    db.session.flush()
    rows = []
    for number in range(1, n + 1):
        item = source[number - 1] if number <= len(source) else rng.choice(source)
        rows.append({"audit_id": audit.id, "number": number, "category": item.category,
                     "council_text": item.council_text, "state": item.state,
                     "lead_team_id": item.lead_team_id, "due_date": item.due_date,
                     "action_details": item.action_details, "future_plan": item.future_plan,
                     "version": 1, "created_at": item.created_at, "updated_at": item.updated_at})
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(Recommendation), rows[start:start + 2000])
    db.session.commit()
    return audit


def bare_table(report: Report, fixed: bool) -> str:
    """The report's texts as a bare HTML table: no stylesheet (``fixed``: fixed layout)."""
    rows = "".join(
        f"<tr><td>{escape(item.council_line)}</td>"
        f"<td>{'<br>'.join(escape(line) for line in item.result_lines())}</td></tr>"
        for item in report.items)
    table = ('<table style="table-layout: fixed; width: 100%"><col style="width: 34%">'
             '<col style="width: 66%">' if fixed else "<table>")
    return f'<!doctype html><html lang="ko"><body>{table}{rows}</table></body></html>'


def _measure(job: tuple[str, Report, dict[str, Any]]) -> dict[str, float]:
    """One timed run of ``name`` in this (fresh) process."""
    name, report, options = job
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out"
        began, cpu = time.perf_counter(), time.process_time()
        if name.startswith("bare"):
            from weasyprint import HTML

            HTML(string=bare_table(report, fixed=name.endswith("fixed"))).write_pdf(path)
        elif name.startswith("pdf"):
            from auditflow.reports import pdf

            stats: list[Any] = []
            with path.open("wb") as output:
                whole = name == "pdf, one rendering"
                pdf.write_to(report, output, workers=options.get("workers"),
                             tagged=name == "pdf, tagged", stats=stats,
                             single_rows=report.total if whole else None)
            result["parts"] = len(stats)
            result["parts_cpu"] = sum(part.cpu_seconds for part in stats)
            result["parts_longest"] = max(part.cpu_seconds for part in stats)
            result["parts_peak"] = max(part.peak_rss_mib for part in stats)
        else:
            writer(name)(report, path)
        result["seconds"] = time.perf_counter() - began
        # the rendering processes, when there were several parts (one part renders here)
        pooled = result.get("parts", 1) > 1
        result["cpu"] = time.process_time() - cpu + (result["parts_cpu"] if pooled else 0.0)
        if name.startswith(("pdf", "bare")):
            from pypdf import PdfReader

            result["pages"] = len(PdfReader(path).pages)
        result["bytes"] = path.stat().st_size
    result["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="items per report, by commas")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, help="PDF rendering processes (default: all)")
    parser.add_argument("--only", default="", help="only the measurements whose name starts so")
    args = parser.parse_args()
    names = [name for name in (*FORMATS, "pdf, tagged", "pdf, one rendering", "bare table",
                               "bare table, fixed") if name.startswith(args.only)]
    fork = multiprocessing.get_context("fork")
    for size in (int(size) for size in args.sizes.split(",")):
        workdir = tempfile.mkdtemp(prefix="auditflow-report-bench-")
        app = create_app({"AUDITFLOW_ENV": "testing",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db",
                          "STORAGE_DIR": f"{workdir}/storage"})
        with app.app_context():
            db.create_all()
            load(REPO / "seed", demo=True, demo_password="Bench-pass-2025!")
            db.session.commit()
            audit = fill(size)
            began = time.perf_counter()
            report = build_report(audit)
            build_seconds = time.perf_counter() - began
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
            for _ in range(args.repeat):
                for name in names:
                    # a fresh process each time (not a daemon: the PDF starts processes)
                    with ProcessPoolExecutor(1, mp_context=fork) as pool:
                        results[name].append(pool.submit(
                            _measure, (name, report, {"workers": args.workers})).result())
        print(f"items: {size:,}  build_report: {build_seconds:.2f} s  "
              f"process before forking: {baseline:.0f} MiB  runs: {args.repeat}")
        medians = {}
        for name in names:
            runs = results[name]
            seconds = statistics.median(run["seconds"] for run in runs)
            medians[name] = seconds
            line = (f"  {name:<18} median {seconds:8.2f} s  cpu {statistics.median(r['cpu'] for r in runs):7.2f} s"
                    f"  peak {max(run['peak'] for run in runs):6.0f} MiB"
                    f"  {statistics.median(run['bytes'] for run in runs) / 1024:9.0f} KiB")
            if "pages" in runs[0]:
                line += f"  {runs[0]['pages']:.0f} pages"
            if name.startswith("pdf"):
                line += (f"  ({runs[0]['parts']:.0f} renderings, {runs[0]['parts_cpu']:.1f} s cpu,"
                         f" the longest {runs[0]['parts_longest']:.1f} s; their peak "
                         f"{max(run['parts_peak'] for run in runs):.0f} MiB)")
            print(line)
        ratios = [("pdf", "pdf, one rendering")] + [
            (pdf_name, floor) for pdf_name in ("pdf", "pdf, tagged")
            for floor in ("bare table", "bare table, fixed")]
        for top, bottom in ratios:
            if top in medians and bottom in medians:
                print(f"  ratio {top} / {bottom:<18} {medians[top] / medians[bottom]:.2f}")


if __name__ == "__main__":
    main()
