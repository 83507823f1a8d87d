"""The evidence service: what is stored, versions, history, and that a file and
its row exist together or not at all, whatever fails.

Real HWP/HWPX files come from shared/samples/evidence (see tests.test_storage.sample);
the other kinds are generated.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from auditflow.errors import DomainError, Forbidden
from auditflow.extensions import db
from auditflow.models import Evidence, History, Recommendation
from auditflow.services import evidence as ops
from auditflow.services import recommendations as rec_ops
from auditflow.storage import ALLOWED_LABEL, Storage, StorageFull
from auditflow.storage.transactional import file_store
from auditflow.workflow import ConflictError
from tests.test_storage import make_pdf, make_png, sample


@pytest.fixture
def app_config():
    return {"MAX_UPLOAD_MB": 1}


@pytest.fixture
def item(make):
    """An item in progress, its team's worker, and the store."""
    team = make.team("AI동행팀")
    recommendation = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    db.session.commit()
    return recommendation, worker


def store() -> Storage:
    return file_store()


def stored_files() -> list[str]:
    """Every committed file's key (not the temp folder's files)."""
    return sorted(store().keys())


def temp_files() -> list[Path]:
    return sorted(store().tmp_dir.iterdir())


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def evidence_history(recommendation) -> list[History]:
    return list(
        db.session.scalars(
            select(History)
            .where(History.recommendation_id == recommendation.id, History.kind == "evidence")
            .order_by(History.id)
        )
    )


def up(name: str, data: bytes) -> ops.Upload:
    return ops.Upload(io.BytesIO(data), name)


# --------------------------------------------------------------- success ---


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_upload_stores_bytes_under_a_random_key_when_the_transaction_commits(item):
    recommendation, worker = item
    data = make_pdf()
    evidence = ops.upload(recommendation, worker, io.BytesIO(data), "조치결과 보고.pdf")

    assert evidence.original_name == "조치결과 보고.pdf"
    assert evidence.version == 1
    assert evidence.size == len(data)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.content_type == "application/pdf"
    assert evidence.uploaded_by == worker
    # Not visible before the commit: only the temp file exists.
    assert not store().exists(evidence.storage_key)
    assert len(temp_files()) == 1

    db.session.commit()
    with store().open(evidence.storage_key) as kept:
        assert kept.read() == data
    assert temp_files() == []
    assert stored_files() == [evidence.storage_key]
    [row] = evidence_history(recommendation)
    assert (row.field, row.new_value, row.comment, row.actor_id) == (
        "evidence", "조치결과 보고.pdf", "업로드 (v1)", worker.id
    )


def test_same_name_again_is_a_new_version_and_old_versions_stay(item):
    recommendation, worker = item
    first = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "보고서.pdf")
    second = ops.upload(recommendation, worker, io.BytesIO(make_pdf() + b"\n"), "보고서.pdf")
    other = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "다른 보고서.pdf")
    db.session.commit()
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert store().exists(first.storage_key) and store().exists(second.storage_key)
    assert [h.comment for h in evidence_history(recommendation)] == [
        "업로드 (v1)", "업로드 (v2)", "업로드 (v1)"
    ]


def test_a_deleted_version_number_is_never_given_again(item):
    recommendation, worker = item
    first = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "보고서.pdf")
    ops.delete(first, worker)
    again = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "보고서.pdf")
    db.session.commit()
    assert again.version == 2


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_several_files_at_once_with_the_same_name_get_consecutive_versions(item):
    recommendation, worker = item
    results = ops.upload_many(
        recommendation, worker,
        [up("사진.png", make_png()), up("사진.png", make_png(3, 3)), up("계획.pdf", make_pdf())],
    )
    db.session.commit()
    assert [(r.evidence.original_name, r.evidence.version) for r in results] == [
        ("사진.png", 1), ("사진.png", 2), ("계획.pdf", 1)
    ]
    assert len(stored_files()) == 3


def test_names_are_kept_exactly_but_cleaned_of_paths_and_normalised(item):
    recommendation, worker = item
    nfd = unicodedata.normalize("NFD", "감사 결과 보고서.hwpx")
    results = ops.upload_many(
        recommendation, worker,
        [
            up(nfd, sample("seoul_sihaengmun.hwpx").read_bytes()),
            up("../../x.pdf", make_pdf()),
            up("C:\\Users\\me\\감사결과_보고서.hwp", sample("table.hwp").read_bytes()),
        ],
    )
    names = [r.evidence.original_name for r in results]
    assert names == ["감사 결과 보고서.hwpx", "x.pdf", "감사결과_보고서.hwp"]
    assert unicodedata.is_normalized("NFC", names[0])


def test_encrypted_hwp_is_stored_with_a_warning_for_the_uploader(item):
    recommendation, worker = item
    [result] = ops.upload_many(
        recommendation, worker, [up("비밀.hwp", sample("password-12345.hwp").read_bytes())]
    )
    assert result.evidence.content_type == "application/x-hwp"
    assert result.note and "암호" in result.note
    db.session.commit()
    assert store().exists(result.evidence.storage_key)


def test_real_hwpx_stored_as_hwpx(item):
    recommendation, worker = item
    [result] = ops.upload_many(
        recommendation, worker, [up("시행문.hwpx", sample("seoul_sihaengmun.hwpx").read_bytes())]
    )
    assert result.evidence.content_type == "application/hwp+zip"
    assert result.note is None


# --------------------------------------------------------------- refusals ---


def assert_nothing_stored(recommendation) -> None:
    db.session.rollback()
    assert count(Evidence, Evidence.recommendation_id == recommendation.id) == 0
    assert evidence_history(recommendation) == []
    assert stored_files() == []
    assert temp_files() == []


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_one_refused_file_stores_none_and_names_the_refused_ones(item):
    recommendation, worker = item
    with pytest.raises(ops.EvidenceRejected) as info:
        ops.upload_many(
            recommendation, worker,
            [
                up("좋은 파일.pdf", make_pdf()),
                up("보고서.pdf", b"MZ" + b"\x90\x00" * 100 + b"PE\x00\x00"),
                up("양식.hwpx", sample("irb_form_blank.hwpx").read_bytes()),
            ],
        )
    err = info.value
    assert err.status == 400
    assert err.code == "files_rejected"
    assert [name for name, _ in err.refused] == ["보고서.pdf", "양식.hwpx"]
    assert "'보고서.pdf'" in err.message and "'양식.hwpx'" in err.message
    assert "좋은 파일.pdf" not in err.message
    assert ALLOWED_LABEL in err.message
    assert "아무 파일도 저장하지 않았습니다" in err.message
    assert_nothing_stored(recommendation)


def test_incomplete_hwpx_refused_with_its_own_message(item):
    recommendation, worker = item
    with pytest.raises(ops.EvidenceRejected) as info:
        ops.upload(recommendation, worker, sample("irb_form_blank.hwpx").open("rb"), "양식.hwpx")
    assert info.value.code == "hwpx_incomplete"
    assert "다시 저장" in info.value.message
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_over_the_limit_is_413_and_nothing_is_stored(item):
    recommendation, worker = item
    big = make_pdf() + b"%" * (1024 * 1024)  # MAX_UPLOAD_MB is 1 in this module
    with pytest.raises(ops.EvidenceRejected) as info:
        ops.upload_many(recommendation, worker, [up("작은.pdf", make_pdf()), up("큰.pdf", big)])
    assert info.value.status == 413
    assert info.value.code == "file_too_large"
    assert "'큰.pdf'" in info.value.message and "1MB" in info.value.message
    assert_nothing_stored(recommendation)


def test_no_files_refused(item):
    recommendation, worker = item
    with pytest.raises(DomainError) as info:
        ops.upload_many(recommendation, worker, [])
    assert info.value.code == "evidence_file_required"


@pytest.mark.parametrize("who", ["liaison", "audit", "admin", "other_team"])
def test_only_the_assigned_team_may_upload(make, item, who):
    recommendation, _ = item
    user = make.user("department") if who == "other_team" else make.user(who)
    with pytest.raises(Forbidden) as info:
        ops.upload(recommendation, user, io.BytesIO(make_pdf()), "a.pdf")
    assert info.value.code == "evidence_forbidden"
    assert_nothing_stored(recommendation)


def test_supporting_team_may_upload(make):
    lead, support = make.team(), make.team()
    recommendation = make.recommendation(lead=lead, supporting=[support], state="in_progress")
    helper = make.user("department", team=support)
    evidence = ops.upload(recommendation, helper, io.BytesIO(make_pdf()), "협조.pdf")
    assert evidence.id is not None


def test_no_upload_after_submission(make, item):
    recommendation, worker = item
    rec_ops.fire(recommendation, "submit", worker)
    db.session.commit()
    with pytest.raises(Forbidden) as info:
        ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "늦은.pdf")
    assert info.value.code == "evidence_locked"
    assert "검토 중" in info.value.message
    assert_nothing_stored(recommendation)


# ---------------------------------------- file and row: together or not at all ---


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_rollback_after_upload_leaves_no_file(item):
    recommendation, worker = item
    evidence = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    key = evidence.storage_key
    db.session.rollback()
    assert not store().exists(key)
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_database_failure_at_commit_leaves_no_file(app, item):
    recommendation, worker = item
    evidence = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    key = evidence.storage_key

    def refuse(connection):
        raise RuntimeError("database went away")

    event.listen(db.engine, "commit", refuse)
    try:
        with pytest.raises(RuntimeError):
            db.session.commit()
        # The file was moved into place just before the database commit; it
        # must be gone again once the transaction is rolled back.
        db.session.rollback()
    finally:
        event.remove(db.engine, "commit", refuse)
    assert not store().exists(key)
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_constraint_failure_at_commit_leaves_no_file(item):
    recommendation, worker = item
    ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    db.session.add(History(recommendation=recommendation, kind="nonsense"))  # CHECK fails
    with pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.commit()
    db.session.rollback()
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_database_failure_during_upload_leaves_no_file(item, monkeypatch):
    recommendation, worker = item

    def broken_flush():
        raise RuntimeError("database went away")

    monkeypatch.setattr(ops, "flush", broken_flush)
    with pytest.raises(RuntimeError):
        ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    assert temp_files() == []
    assert_nothing_stored(recommendation)


class FailingStream(io.RawIOBase):
    """A disk or network error after the first chunk."""

    def __init__(self, error: int = 5) -> None:
        self.calls = 0
        self.error = error

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError(self.error, os.strerror(self.error))
        return make_pdf()


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_failed_file_write_leaves_no_row(item):
    recommendation, worker = item
    with pytest.raises(OSError):
        ops.upload_many(
            recommendation, worker, [up("좋은.pdf", make_pdf()), ops.Upload(FailingStream(), "b.pdf")]
        )
    db.session.commit()  # whatever the caller does next, nothing was added
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_a_full_disk_while_reading_is_507_and_leaves_no_row(item):
    recommendation, worker = item
    with pytest.raises(StorageFull) as info:
        ops.upload_many(recommendation, worker, [
            up("좋은.pdf", make_pdf()), ops.Upload(FailingStream(errno.ENOSPC), "b.pdf")])
    assert (info.value.status, info.value.code) == (507, "storage_full")
    assert "저장 공간이 부족" in info.value.message
    db.session.commit()
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_failed_move_at_commit_leaves_no_row(item, monkeypatch):
    recommendation, worker = item
    ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")

    def broken_commit(self, temp, key):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(type(store()), "commit", broken_commit)
    with pytest.raises(OSError):
        db.session.commit()
    db.session.rollback()
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_closing_the_session_without_commit_leaves_no_file(item):
    recommendation, worker = item
    ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    assert temp_files()
    db.session.close()
    assert temp_files() == []
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_savepoint_rollback_discards_only_its_own_files(item):
    recommendation, worker = item
    kept = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "남는.pdf")
    savepoint = db.session.begin_nested()
    dropped = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "사라지는.pdf")
    dropped_key = dropped.storage_key
    savepoint.rollback()
    savepoint = db.session.begin_nested()
    released = ops.upload(recommendation, worker, io.BytesIO(make_png()), "그림.png")
    savepoint.commit()  # a savepoint release does not publish files yet
    assert not store().exists(released.storage_key)
    db.session.commit()
    assert store().exists(kept.storage_key)
    assert store().exists(released.storage_key)
    assert not store().exists(dropped_key)
    assert temp_files() == []


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_upload_racing_another_change_of_the_item_is_a_conflict(item):
    recommendation, worker = item
    # Somebody else changed the item (e.g. submitted it) since it was loaded.
    db.session.execute(
        update(Recommendation)
        .where(Recommendation.id == recommendation.id)
        .values(version=Recommendation.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(ConflictError):
        ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    assert temp_files() == []
    assert_nothing_stored(recommendation)


# ----------------------------------------------------------------- delete ---


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_delete_is_soft_keeps_the_bytes_and_is_recorded(item):
    recommendation, worker = item
    evidence = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "지울.pdf")
    db.session.commit()
    ops.delete(evidence, worker)
    db.session.commit()
    assert evidence.deleted_at is not None and evidence.deleted_by_id == worker.id
    assert store().exists(evidence.storage_key)
    assert recommendation.current_evidence == []
    assert [(h.new_value, h.comment) for h in evidence_history(recommendation)] == [
        ("지울.pdf", "업로드 (v1)"), ("지울.pdf", "삭제 (v1)")
    ]
    with pytest.raises(DomainError) as info:
        ops.delete(evidence, worker)
    assert info.value.code == "evidence_already_deleted"


def test_delete_refused_after_submission_and_for_others(make, item):
    recommendation, worker = item
    evidence = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    db.session.commit()
    for user in (make.user("department"), make.user("audit"), make.user("liaison")):
        with pytest.raises(Forbidden):
            ops.delete(evidence, user)
    rec_ops.fire(recommendation, "submit", worker)
    db.session.commit()
    with pytest.raises(Forbidden) as info:
        ops.delete(evidence, worker)
    assert info.value.code == "evidence_locked"
    db.session.rollback()
    assert evidence.deleted_at is None
    assert len(evidence_history(recommendation)) == 1
