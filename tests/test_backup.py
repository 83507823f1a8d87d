"""Backups: an archive taken while users write restores into an empty database and storage
folder with the same rows (checksums), files and unbroken hash chains."""

from __future__ import annotations

import contextvars
import io
import json
import tarfile
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from auditflow import create_app
from auditflow.extensions import db
from auditflow.models import History, Recommendation, User
from auditflow.services import backup
from auditflow.services import evidence as evidence_ops
from auditflow.services import recommendations as ops
from tests.conftest import APP_ROLE, PG_URL, Backend, _config, owner_engine
from tests.test_evidence_service import make_pdf


def cli(app, *args: str):
    """A command run as a separate process would run it: in a context of its own."""
    return contextvars.Context().run(lambda: app.test_cli_runner().invoke(args=list(args)))


def fresh_app(backend, workdir: Path, *, owner: bool = True):
    """An application over a new, empty database (schema made) and an empty storage folder."""
    url = backend.new_database()
    if owner:
        url = backend.owners.get(url, url)
    return create_app(_config(url, workdir))


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def open_item() -> tuple[Recommendation, User]:
    rec = db.session.scalar(select(Recommendation).where(Recommendation.state == "in_progress")
                            .order_by(Recommendation.id))
    worker = db.session.scalar(select(User).where(User.team_id == rec.lead_team_id,
                                                  User.role == "department"))
    return rec, worker


def upload_one() -> int:
    rec, worker = open_item()
    stored = evidence_ops.upload(rec, worker, io.BytesIO(make_pdf()), "결과.pdf")
    db.session.commit()
    return stored.id


@pytest.fixture
def archive(tmp_path):
    return tmp_path / "backup.tar"


def test_a_backup_taken_while_writing_restores_with_the_same_checksums(
        app, seeded, backend, tmp_path, archive):
    upload_one()
    rec, worker = open_item()
    rec_id, worker_id = rec.id, worker.id
    auditor_id = db.session.scalar(select(User.id).filter_by(login="audit"))
    before = db.session.scalar(select(func.count()).select_from(History))
    started, stop = threading.Event(), threading.Event()
    writes: list[str] = []

    def write() -> None:
        with app.app_context():
            try:
                rec = db.session.get(Recommendation, rec_id)
                user = db.session.get(User, auditor_id)
                uploader = db.session.get(User, worker_id)
                day = 1
                while not stop.is_set() or day < 3:
                    # History rows (a hash chain) and, every third time, a stored file.
                    ops.set_due_date(rec, user, date(2027, 1 + day // 28, 1 + day % 28),
                                     reason="백업 중 변경")
                    if day % 3 == 1:
                        evidence_ops.upload(rec, uploader, io.BytesIO(make_pdf()),
                                            f"결과-{day}.pdf")
                    db.session.commit()
                    writes.append("ok")
                    started.set()
                    day += 1
            except Exception as error:  # anything fails the test
                db.session.rollback()
                writes.append(repr(error))
                started.set()
            finally:
                db.session.remove()

    writer = threading.Thread(target=write)
    writer.start()
    assert started.wait(60)
    result = cli(app, "backup", "create", str(archive))
    stop.set()
    writer.join(120)
    assert result.exit_code == 0, result.output
    assert writes and set(writes) == {"ok"}, writes[-1]
    after = db.session.scalar(select(func.count()).select_from(History))
    with tarfile.open(archive) as opened:
        manifest = json.loads(opened.extractfile("manifest.json").read())
    # A moment inside the writing: some changes are in it, and the chain head matches them.
    assert before < manifest["tables"]["history"]["rows"] <= after
    evidence_rows = manifest["tables"]["evidence"]["rows"]
    assert evidence_rows >= 2 and len(manifest["files"]) >= evidence_rows

    verified = cli(app, "backup", "verify", str(archive))
    assert verified.exit_code == 0, verified.output

    target = fresh_app(backend, tmp_path / "restored")
    try:
        restored = cli(target, "backup", "restore", str(archive))
        assert restored.exit_code == 0, restored.output
        assert "이상 없음" in restored.output
        with target.app_context():
            found = backup.checksums(db.session.connection())
            assert {name: {"rows": s.rows, "sha256": s.sha256} for name, s in found.items()} \
                == manifest["tables"]
            # New rows get new ids after the restored ones.
            rec = db.session.get(Recommendation, rec_id)
            ops.set_due_date(rec, db.session.get(User, auditor_id), date(2028, 1, 1),
                             reason="복원 후 변경")
            db.session.commit()
            db.session.remove()
        checked = cli(target, "integrity", "verify")
        assert checked.exit_code == 0, checked.output
        assert f"history: {manifest['tables']['history']['rows'] + 1}" in checked.output
        assert f"evidence files: {evidence_rows}" in checked.output
    finally:
        dispose(target)


def test_restore_refuses_a_database_that_is_not_empty(app, seeded, archive, tmp_path):
    assert cli(app, "backup", "create", str(archive)).exit_code == 0
    owner = create_app(_config(owner_engine().url.render_as_string(hide_password=False),
                               tmp_path / "owner"))
    try:
        result = cli(owner, "backup", "restore", str(archive))
    finally:
        dispose(owner)
    assert result.exit_code == 1
    assert "database_not_empty" in result.output and "빈 데이터베이스" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == seeded.users


def test_create_refuses_to_overwrite(app, app_context, archive):
    archive.write_bytes(b"earlier")
    result = cli(app, "backup", "create", str(archive))
    assert result.exit_code == 1 and "archive_exists" in result.output
    assert archive.read_bytes() == b"earlier"
    nowhere = cli(app, "backup", "create", str(archive.parent / "없는 폴더" / "b.tar"))
    assert nowhere.exit_code == 1 and "folder_missing" in nowhere.output


def rewritten(source: Path, target: Path, change) -> None:
    """A copy of the archive with one member's bytes changed by ``change(name, data)``."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def test_a_changed_archive_is_named_and_not_restored(app, seeded, backend, tmp_path, archive):
    upload_one()
    assert cli(app, "backup", "create", str(archive)).exit_code == 0
    tampered = tmp_path / "tampered.tar"

    def change(name: str, data: bytes) -> bytes:
        if name == "db/recommendation.jsonl":
            return data.replace(b'"state":"in_progress"', b'"state":"done"', 1)
        if name.startswith("files/"):
            return data + b"%changed"
        return data

    rewritten(archive, tampered, change)
    result = cli(app, "backup", "verify", str(tampered))
    assert result.exit_code == 1
    assert "archive_invalid" in result.output
    assert "테이블 recommendation: 행의 SHA-256" in result.output
    assert "파일 " in result.output and "SHA-256" in result.output

    target = fresh_app(backend, tmp_path / "restored")
    try:
        refused = cli(target, "backup", "restore", str(tampered))
        assert refused.exit_code == 1 and "archive_invalid" in refused.output
        with target.app_context():
            assert db.session.scalar(select(func.count()).select_from(Recommendation)) == 0
    finally:
        dispose(target)


def test_not_an_archive_is_refused(app, app_context, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all" * 100)
    result = cli(app, "backup", "verify", str(junk))
    assert result.exit_code == 1 and "archive_invalid" in result.output


def test_restore_as_the_application_role_is_refused(app, seeded, backend, tmp_path, archive):
    """PostgreSQL with the split role: restoring is the owner's; SQLite has no roles."""
    assert cli(app, "backup", "create", str(archive)).exit_code == 0
    target = fresh_app(backend, tmp_path / "restored", owner=False)
    try:
        result = cli(target, "backup", "restore", str(archive))
        if backend.name == "postgresql" and APP_ROLE:
            assert result.exit_code == 1 and "not_table_owner" in result.output
        else:
            assert result.exit_code == 0, result.output
    finally:
        dispose(target)


# Only where both databases are there (AUDITFLOW_TEST_DATABASE_URL, as CI runs).
if PG_URL:
    def test_an_archive_restores_into_the_other_database(app, seeded, backend, tmp_path, archive):
        """The encoding is one for both databases: SQLite's archive restores into PostgreSQL and
        PostgreSQL's into SQLite, with the same checksums."""
        other_name = "postgresql" if backend.name == "sqlite" else "sqlite"
        upload_one()
        assert cli(app, "backup", "create", str(archive)).exit_code == 0
        with tarfile.open(archive) as opened:
            manifest = json.loads(opened.extractfile("manifest.json").read())
        assert manifest["dialect"] == backend.name
        other = Backend(other_name, tmp_path / "other")
        (tmp_path / "other").mkdir()
        try:
            target = fresh_app(other, tmp_path / "restored")
            try:
                restored = cli(target, "backup", "restore", str(archive))
                assert restored.exit_code == 0, restored.output
                with target.app_context():
                    found = backup.checksums(db.session.connection())
                    assert {name: s.sha256 for name, s in found.items()} \
                        == {name: t["sha256"] for name, t in manifest["tables"].items()}
            finally:
                dispose(target)
        finally:
            other.close()
