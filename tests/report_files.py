"""Writes the seed's report in every format and prints each file's SHA-256 (no tests here).

    python tests/report_files.py OUTPUT_DIR [--issued-on YYYY-MM-DD] [--items N]
                                 [--formats pdf,hwpx,...] [--chunk-rows N]
                                 [--then OUTPUT_DIR [options] ...]

Run by tests/test_report_reproducible.py in fresh processes with different time zones
and SOURCE_DATE_EPOCH values: the files must come out the same, byte for byte. The
database is a new SQLite file loaded from seed/ through the workflow, as `flask seed`
does; ``--items`` adds items copied from the seed's (for a report rendered in parts).
Each ``--then`` starts another set of files from the same database, in the same process;
one line of hashes is printed per set, in their order.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REFERENCE = date(2026, 1, 31)


def main() -> None:
    from auditflow import create_app
    from auditflow.extensions import db
    from auditflow.models import Audit
    from auditflow.reports import FORMATS, writer
    from auditflow.reports.content import build_report
    from auditflow.services.seeding import load

    parser = argparse.ArgumentParser()
    parser.add_argument("output", type=Path)
    parser.add_argument("--issued-on", type=date.fromisoformat)
    parser.add_argument("--items", type=int, default=0)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--chunk-rows", type=int, help="the PDF in parts of this many items")
    jobs, current = [], []
    for word in sys.argv[1:]:
        if word == "--then":
            jobs.append(current)
            current = []
        else:
            current.append(word)
    jobs.append(current)
    every = [parser.parse_args(job) for job in jobs]
    work = tempfile.mkdtemp(prefix="auditflow-files-")
    app = create_app({"AUDITFLOW_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work}/db",
                      "STORAGE_DIR": f"{work}/storage"})
    with app.app_context():
        db.create_all()
        load(REPO / "seed", demo=True, demo_password="Demo-pass-2025!")
        db.session.commit()
        audit = db.session.scalar(db.select(Audit).filter_by(year=2025))
        for args in every:
            hashes = {}
            report = build_report(audit, REFERENCE, issued_on=args.issued_on)
            if args.items:
                report = grown(report, args.items)
            for fmt in args.formats.split(","):
                path = args.output / f"report.{fmt}"
                if fmt == "pdf" and args.chunk_rows:
                    from auditflow.reports import pdf

                    with path.open("wb") as output:
                        pdf.write_to(report, output, chunk_rows=args.chunk_rows,
                                     single_rows=args.chunk_rows)
                else:
                    writer(fmt)(report, path)
                hashes[fmt] = hashlib.sha256(path.read_bytes()).hexdigest()
            print(json.dumps(hashes), flush=True)


def grown(report, total: int):  # type: ignore[no-untyped-def]
    """The report with ``total`` items: the seed's, then copies of them in turn, numbered on."""
    base = report.items
    by_category: dict = {section.category: [] for section in report.sections}
    for index in range(total):
        item = base[index % len(base)]
        by_category[item.category].append(dataclasses.replace(item, number=index + 1, id=index + 1))
    sections = tuple(dataclasses.replace(section, items=tuple(by_category[section.category]))
                     for section in report.sections)
    return dataclasses.replace(report, sections=sections)


if __name__ == "__main__":
    main()
