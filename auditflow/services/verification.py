"""Verification of an issued edition (검증): made again from the history, compared three ways.

Every format of an edition is a pure function of the audit, the reference date and the
edition's details (its day of issue and its 기한 변경 내역 choice), and the history it is
built from is append-only (see ``services.issuing``). So an edition can be made again at
any time and must give the same bytes. ``verify`` makes each of its files again and
compares three SHA-256 values per file:

- ``regenerated``: of the file made again now from the history;
- ``stored``: the one recorded in ``issued_report_file`` when it was issued;
- ``on_disk``: of the bytes kept in the storage folder (what a download serves).

All three equal is 일치. Otherwise the one that differs from the other two says what
happened: the kept file changed (``file_changed``), the recorded hash changed
(``hash_changed``), or the history no longer gives the edition (``regenerated_differs``);
when all three differ, or the file is gone, it says so.

The command line (``flask report verify``) calls ``verify`` at once; the page asks a
report job of kind ``verify`` (``services.report_jobs.start_verify``), whose outcome is
kept on the job as JSON (``Verification.to_json``). Nothing here changes any data.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auditflow.errors import Forbidden, NotFound
from auditflow.extensions import db
from auditflow.models import IssuedReport
from auditflow.permissions import Actor, Capability, role_names
from auditflow.reports import FormatUnavailable, Writer, writer
from auditflow.reports.content import Report, build_report
from auditflow.reports.progress import Progress
from auditflow.services.issuing import IssueProgress, edition_label, issued_day
from auditflow.storage import CHUNK_SIZE
from auditflow.storage.transactional import file_store


class Outcome(enum.StrEnum):
    MATCH = "match"
    FILE_CHANGED = "file_changed"  # the kept bytes differ from what was issued and made again
    HASH_CHANGED = "hash_changed"  # the recorded SHA-256 differs from both
    REGENERATED_DIFFERS = "regenerated_differs"  # the history gives other bytes now
    ALL_DIFFER = "all_differ"
    FILE_MISSING = "file_missing"  # nothing kept under the file's key
    FORMAT_UNAVAILABLE = "format_unavailable"  # no writer for the format here now

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    Outcome.MATCH: "일치",
    Outcome.FILE_CHANGED: "저장소에 보관된 파일이 발행 기록 및 다시 만든 파일과 다릅니다"
                          "(보관 파일 변조 또는 손상).",
    Outcome.HASH_CHANGED: "발행 기록의 SHA-256이 보관 파일 및 다시 만든 파일과 다릅니다"
                          "(발행 기록 변조).",
    Outcome.REGENERATED_DIFFERS: "이력으로 다시 만든 파일이 발행 기록 및 보관 파일과 다릅니다"
                                 "(발행 뒤 이력 또는 프로그램이 달라짐).",
    Outcome.ALL_DIFFER: "다시 만든 파일, 발행 기록, 보관 파일의 SHA-256이 모두 다릅니다.",
    Outcome.FILE_MISSING: "저장소에 보관된 파일이 없습니다.",
    Outcome.FORMAT_UNAVAILABLE: "이 형식을 지금 만들 수 없어 다시 만들어 비교하지 못했습니다.",
}


def outcome_of(regenerated: str | None, stored: str, on_disk: str | None) -> Outcome:
    """Which of the three differs (``None``: could not be made / is not there)."""
    if on_disk is None:
        return Outcome.FILE_MISSING
    if regenerated is None:
        return Outcome.FORMAT_UNAVAILABLE
    if regenerated == stored == on_disk:
        return Outcome.MATCH
    if regenerated == stored:
        return Outcome.FILE_CHANGED
    if regenerated == on_disk:
        return Outcome.HASH_CHANGED
    if stored == on_disk:
        return Outcome.REGENERATED_DIFFERS
    return Outcome.ALL_DIFFER


@dataclass(frozen=True)
class FileCheck:
    format: str
    file_name: str
    stored: str
    on_disk: str | None
    regenerated: str | None

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.regenerated, self.stored, self.on_disk)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.MATCH

    @property
    def line(self) -> str:
        """"<file>: 일치", or "<file>: 불일치 [code] why"."""
        if self.ok:
            return f"{self.file_name}: 일치"
        return f"{self.file_name}: 불일치 [{self.outcome.value}] {self.outcome.message}"


@dataclass(frozen=True)
class Verification:
    edition_id: int
    files: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(check.ok for check in self.files)

    @property
    def differing(self) -> tuple[FileCheck, ...]:
        return tuple(check for check in self.files if not check.ok)

    def summary(self, edition: IssuedReport) -> str:
        """One Korean sentence about the whole edition."""
        label = edition_label(edition)
        if self.ok:
            return f"{label}: 일치 (파일 {len(self.files)}개 모두 발행 기록, 보관 파일, 이력으로 " \
                   "다시 만든 파일이 같습니다)."
        names = ", ".join(check.file_name for check in self.differing)
        return f"{label}: 불일치 (파일 {len(self.files)}개 중 {len(self.differing)}개: {names})."

    def to_json(self) -> str:
        return json.dumps({"edition_id": self.edition_id, "files": [
            {"format": c.format, "file_name": c.file_name, "stored": c.stored,
             "on_disk": c.on_disk, "regenerated": c.regenerated} for c in self.files]},
            ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Verification:
        data = json.loads(text)
        return cls(int(data["edition_id"]), tuple(
            FileCheck(f["format"], f["file_name"], f["stored"], f["on_disk"], f["regenerated"])
            for f in data["files"]))


def check_verify(user: Actor) -> None:
    """Who may verify: whoever may read the reports (not a department)."""
    if not user.can(Capability.VIEW_REPORTS):
        raise Forbidden(f"발행본 검증은 {role_names(Capability.VIEW_REPORTS)}만 할 수 있습니다.")


def find_edition(number: int, audit_id: int | None = None) -> IssuedReport:
    """An edition by its id, or by its number within ``audit_id`` (제N판); NotFound otherwise."""
    query = select(IssuedReport).options(selectinload(IssuedReport.files),
                                         selectinload(IssuedReport.audit))
    if audit_id is None:
        found = db.session.scalar(query.where(IssuedReport.id == number))
        where = f"발행 번호 {number}의 판"
    else:
        found = db.session.scalar(query.where(IssuedReport.audit_id == audit_id,
                                              IssuedReport.number == number))
        where = f"{audit_id}번 감사의 제{number}판"
    if found is None:
        raise NotFound(f"{where}이 없습니다. 발행 이력에서 번호를 확인하세요.",
                       code="edition_not_found")
    return found


def edition_report(edition: IssuedReport) -> Report:
    """The report as the edition was made: its audit, reference date, day and moment of
    issue (the history as it stood then), and its 기한 변경 내역 choice."""
    return build_report(edition.audit, edition.as_of,
                        include_due_changes=edition.include_due_changes,
                        issued_on=issued_day(edition.issued_at), until=edition.issued_at)


def verify(edition: IssuedReport, progress: IssueProgress | None = None) -> Verification:
    """Make every file of ``edition`` again and compare it with the record and the kept bytes."""
    report = edition_report(edition)
    files = list(edition.files)
    if progress is not None:
        progress.begin([file.format for file in files], len(report.items), [])
    store = file_store()
    checks = []
    for file in files:
        try:
            on_disk: str | None = store.sha256(file.storage_key)
        except FileNotFoundError:
            on_disk = None
        try:
            write = writer(file.format)
        except FormatUnavailable:
            regenerated = None
        else:
            regenerated = _regenerated(write, report, store.tmp_dir,
                                       partial(progress.items, file.format) if progress else None)
        checks.append(FileCheck(file.format, file.file_name, file.sha256, on_disk, regenerated))
        if progress is not None:
            progress.finished(file.format)
    return Verification(edition.id, tuple(checks))


def _regenerated(write: Writer, report: Report, folder: Path, progress: Progress | None) -> str:
    fd, name = tempfile.mkstemp(dir=folder, prefix="verify-", suffix=".part")
    os.close(fd)
    scratch = Path(name)
    try:
        write(report, scratch, progress)
        return sha256_of(scratch)
    finally:
        scratch.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = [
    "FileCheck",
    "Outcome",
    "Verification",
    "check_verify",
    "edition_report",
    "find_edition",
    "outcome_of",
    "sha256_of",
    "verify",
]
