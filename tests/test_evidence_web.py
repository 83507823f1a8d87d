"""Evidence through the web: upload, download, delete, as each kind of user would.

CSRF protection stays ON (the app's default); every post carries the token a
signed-in page gave, except where the refusal without it is the point.
Real HWP/HWPX files are read from shared/samples/evidence, never copied.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import Evidence, History
from auditflow.services import evidence as ops
from auditflow.services import recommendations as rec_ops
from auditflow.storage import ALLOWED_LABEL
from auditflow.storage.transactional import file_store
from tests.auth_helpers import csrf_token, login
from tests.factories import PASSWORD
from tests.test_storage import make_jpeg, make_ooxml, make_pdf, make_png, make_xlsx, sample

EXE = b"MZ" + b"\x90\x00" * 100 + b"PE\x00\x00"


@pytest.fixture
def app_config():
    # The reason asked before a session's first download has tests of its own
    # (tests/test_access_log.py); these are about the stored bytes and who sees them.
    return {"MAX_UPLOAD_MB": 1, "ACCESS_DOWNLOAD_REASON": False}


@pytest.fixture
def world(app, make):
    """One item in progress for 'AI동행팀', and a user of every kind."""
    team = make.team("AI동행팀")
    recommendation = make.recommendation(lead=team, state="in_progress")
    users = {
        "worker": make.user("department", team=team),
        "other": make.user("department", team=make.team("다른팀")),
        "audit": make.user("audit"),
        "liaison": make.user("liaison"),
        "admin": make.user("admin"),
    }
    db.session.commit()
    return recommendation, users


def signed_in(app, user):
    client = app.test_client()
    login(client, user.login, PASSWORD)
    return client


def detail_path(recommendation) -> str:
    return f"/recommendations/{recommendation.id}"


def post_files(client, recommendation, files, *, token: str | None = "fetch"):
    """POST the upload form as a browser would: multipart, the files under "files"."""
    data: dict[str, object] = {"files": [(io.BytesIO(body), name) for name, body in files]}
    if token == "fetch":
        token = csrf_token(client, detail_path(recommendation))
    if token is not None:
        data["csrf_token"] = token
    return client.post(
        f"/recommendations/{recommendation.id}/evidence",
        data=data,
        content_type="multipart/form-data",
    )


def evidence_rows(recommendation) -> list[Evidence]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Evidence).where(Evidence.recommendation_id == recommendation.id).order_by(Evidence.id)
        )
    )


def storage_files() -> list[str]:
    """Every stored key and temp file, in the folder or in the object store."""
    store = file_store()
    return sorted([*store.keys(), *(temp.name for temp in store.tmp_dir.iterdir())])


def page_text(response) -> str:
    """The page as text, entities decoded (so quotes compare as typed)."""
    return html.unescape(response.get_data(as_text=True))


def flashes(client, recommendation) -> str:
    """The item's page as text (entities decoded), with any flashed messages."""
    return page_text(client.get(detail_path(recommendation)))


def filename_star(header: str) -> str:
    """The name a browser saves under, from the RFC 5987 ``filename*`` parameter."""
    match = re.search(r"filename\*=([^;]+)", header)
    assert match, f"no filename* in {header!r}"
    charset, _language, encoded = match.group(1).strip().split("'", 2)
    assert charset.lower() == "utf-8"
    return unquote(encoded, encoding="utf-8", errors="strict")


# ------------------------------------------------------------- each type ---


def _xlsx(tmp_path: Path) -> bytes:
    return make_xlsx(tmp_path / "x.xlsx").read_bytes()


KINDS = [
    ("시행문.hwpx", lambda tmp: sample("seoul_sihaengmun.hwpx").read_bytes(), "application/hwp+zip"),
    ("표.hwp", lambda tmp: sample("table.hwp").read_bytes(), "application/x-hwp"),
    ("결과보고.pdf", lambda tmp: make_pdf(), "application/pdf"),
    ("보고서.docx", lambda tmp: make_ooxml("docx"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("현황.xlsx", _xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("발표.pptx", lambda tmp: make_ooxml("pptx"),
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("사진.png", lambda tmp: make_png(), "image/png"),
    ("사진.jpg", lambda tmp: make_jpeg(), "image/jpeg"),
]


@pytest.mark.parametrize(("name", "body", "mime"), KINDS, ids=[k[0] for k in KINDS])
@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_each_allowed_type_uploads_and_downloads_unchanged(app, world, tmp_path, name, body, mime):
    recommendation, users = world
    data = body(tmp_path)
    client = signed_in(app, users["worker"])

    response = post_files(client, recommendation, [(name, data)])

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{detail_path(recommendation)}#evidence")
    [row] = evidence_rows(recommendation)
    assert (row.original_name, row.version, row.content_type, row.size) == (name, 1, mime, len(data))
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    page = flashes(client, recommendation)
    assert "증빙자료 1개를 올렸습니다" in page and name in page
    download = client.get(f"/evidence/{row.id}/download")
    assert download.status_code == 200
    assert download.data == data
    assert download.mimetype == mime


def test_several_files_in_one_upload(app, world, tmp_path):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(
        client, recommendation,
        [("시행문.hwpx", sample("seoul_sihaengmun.hwpx").read_bytes()), ("결과.pdf", make_pdf())],
    )
    assert response.status_code == 303
    assert [r.original_name for r in evidence_rows(recommendation)] == ["시행문.hwpx", "결과.pdf"]
    assert "증빙자료 2개를 올렸습니다" in flashes(client, recommendation)


def test_encrypted_hwp_is_accepted_with_a_warning(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(client, recommendation, [("비밀 문서.hwp", sample("password-12345.hwp").read_bytes())])
    assert response.status_code == 303
    [row] = evidence_rows(recommendation)
    assert row.content_type == "application/x-hwp"
    page = flashes(client, recommendation)
    assert "'비밀 문서.hwp': 암호가 설정된 한글 문서입니다." in page
    assert "app-flash-warning" in page


# ------------------------------------------------------------- refusals ---


def assert_nothing_stored(recommendation) -> None:
    assert evidence_rows(recommendation) == []
    assert db.session.scalar(
        select(func.count()).select_from(History).where(
            History.recommendation_id == recommendation.id, History.kind == "evidence"
        )
    ) == 0
    assert storage_files() == []


def test_incomplete_hwpx_is_refused_with_a_message(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(client, recommendation, [("서식.hwpx", sample("irb_form_blank.hwpx").read_bytes())])
    assert response.status_code == 303  # back to the page, with the message
    page = flashes(client, recommendation)
    assert "'서식.hwpx': 한글(HWPX) 문서에 꼭 있어야 할 구성 요소가 빠져" in page
    assert "다시 저장" in page
    assert_nothing_stored(recommendation)


def test_renamed_executable_is_refused_naming_what_is_allowed(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(client, recommendation, [("보고서.pdf", EXE)])
    assert response.status_code == 303
    page = flashes(client, recommendation)
    assert "'보고서.pdf': 허용되지 않는 파일 형식입니다." in page
    assert ALLOWED_LABEL in page
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_one_refused_file_among_good_ones_stores_none(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(
        client, recommendation,
        [("좋은.pdf", make_pdf()), ("나쁜.pdf", EXE), ("사진.png", make_png())],
    )
    assert response.status_code == 303
    page = flashes(client, recommendation)
    assert "아무 파일도 저장하지 않았습니다" in page or "파일을 저장하지 않았습니다" in page
    assert "'나쁜.pdf'" in page
    assert_nothing_stored(recommendation)


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_over_size_file_gets_a_korean_413_page_and_nothing_is_stored(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    big = make_pdf() + b"%" * (1024 * 1024)  # MAX_UPLOAD_MB is 1 here
    response = post_files(client, recommendation, [("작은.pdf", make_pdf()), ("큰.pdf", big)])
    assert response.status_code == 413
    text = page_text(response)
    assert '<html lang="ko">' in text
    assert "파일이 너무 큽니다" in text and "1MB" in text
    assert_nothing_stored(recommendation)


def test_over_size_file_is_stopped_while_the_request_is_parsed(app, world, monkeypatch):
    # The limit holds before any view runs (the CSRF check reads the form
    # first), so the parser never writes more than limit + 1 byte of a file.
    recommendation, users = world
    client = signed_in(app, users["worker"])
    token = csrf_token(client, detail_path(recommendation))

    def not_reached(*args, **kwargs):
        raise AssertionError("the view should not run for an over-size upload")

    monkeypatch.setattr(ops, "upload_many", not_reached)
    big = b"%PDF-" + b"0" * (1024 * 1024)
    response = post_files(client, recommendation, [("큰.pdf", big)], token=token)
    assert response.status_code == 413
    assert_nothing_stored(recommendation)


def test_no_file_chosen_is_refused(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(client, recommendation, [("", b"")])
    assert response.status_code == 303
    assert "올릴 파일을 선택하세요." in flashes(client, recommendation)
    assert_nothing_stored(recommendation)


def test_upload_without_csrf_token_is_refused(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    response = post_files(client, recommendation, [("결과.pdf", make_pdf())], token=None)
    assert response.status_code == 400
    assert "보안 토큰" in page_text(response)
    response = post_files(client, recommendation, [("결과.pdf", make_pdf())], token="forged")
    assert response.status_code == 400
    assert_nothing_stored(recommendation)


# ------------------------------------------------------------- names ---


def test_korean_name_with_spaces_is_kept_exactly_and_downloads_under_it(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    data = sample("seoul_sihaengmun.hwpx").read_bytes()
    post_files(client, recommendation, [("감사 결과 보고서.hwpx", data)])
    [row] = evidence_rows(recommendation)
    assert row.original_name == "감사 결과 보고서.hwpx"
    assert "감사 결과 보고서.hwpx" in flashes(client, recommendation)

    response = client.get(f"/evidence/{row.id}/download")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert filename_star(disposition) == "감사 결과 보고서.hwpx"
    assert disposition.isascii()


def test_path_like_name_keeps_only_the_last_part(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    post_files(client, recommendation, [("../../x.pdf", make_pdf())])
    [row] = evidence_rows(recommendation)
    assert row.original_name == "x.pdf"
    # On disk only the random key: nothing of the name, nothing outside the store.
    assert storage_files() == [row.storage_key]
    path = file_store().local_path(row.storage_key)
    assert path is not None and path.is_file() and "x.pdf" not in str(path)
    assert path.is_relative_to(file_store().root)


def test_markup_in_a_file_name_shows_as_text(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    name = "<img src=x onerror=alert(1)>.pdf"  # no "/": it would count as a path
    post_files(client, recommendation, [(name, make_pdf())])
    [row] = evidence_rows(recommendation)
    assert row.original_name == name
    page = client.get(detail_path(recommendation)).get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_uploading_the_same_name_again_adds_a_version(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    first, second = make_pdf(), make_pdf() + b"\n% revised\n"
    post_files(client, recommendation, [("결과보고.pdf", first)])
    post_files(client, recommendation, [("결과보고.pdf", second)])
    rows = evidence_rows(recommendation)
    assert [(r.original_name, r.version) for r in rows] == [("결과보고.pdf", 1), ("결과보고.pdf", 2)]
    page = flashes(client, recommendation)
    assert re.search(r"결과보고\.pdf.*?v2.*?최신", page, re.S)
    assert "v1" in page
    assert client.get(f"/evidence/{rows[0].id}/download").data == first
    assert client.get(f"/evidence/{rows[1].id}/download").data == second


# ------------------------------------------------------------- download ---


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_download_headers(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    data = make_pdf()
    post_files(client, recommendation, [("조치 결과.pdf", data)])
    [row] = evidence_rows(recommendation)

    response = client.get(f"/evidence/{row.id}/download")

    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert filename_star(response.headers["Content-Disposition"]) == "조치 결과.pdf"
    assert "private" in response.headers["Cache-Control"]


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_download_is_for_those_who_may_see_the_item(app, world):
    recommendation, users = world
    evidence = ops.upload(recommendation, users["worker"], io.BytesIO(make_pdf()), "a.pdf")
    db.session.commit()
    url = f"/evidence/{evidence.id}/download"
    for who in ("worker", "audit", "liaison", "admin"):
        assert signed_in(app, users[who]).get(url).status_code == 200, who
    assert signed_in(app, users["other"]).get(url).status_code == 404
    assert signed_in(app, users["worker"]).get("/evidence/999999/download").status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 401)
    assert b"%PDF" not in anonymous.data


def test_supporting_team_may_download(app, make, world):
    recommendation, users = world
    support = make.team("협조팀")
    rec_ops.assign(recommendation, users["audit"], lead_team=recommendation.lead_team,
                   supporting_teams=[support])
    helper = make.user("department", team=support)
    evidence = ops.upload(recommendation, users["worker"], io.BytesIO(make_pdf()), "a.pdf")
    db.session.commit()
    assert signed_in(app, helper).get(f"/evidence/{evidence.id}/download").status_code == 200


@pytest.mark.usefixtures("storage_kind")  # folder and object store
def test_deleted_evidence_is_not_downloadable(app, world):
    recommendation, users = world
    evidence = ops.upload(recommendation, users["worker"], io.BytesIO(make_pdf()), "a.pdf")
    db.session.commit()
    ops.delete(evidence, users["worker"])
    db.session.commit()
    assert signed_in(app, users["audit"]).get(f"/evidence/{evidence.id}/download").status_code == 404


def test_with_the_object_store_the_bytes_live_in_the_bucket_and_stream_through_the_app(
        app, world, s3_server):
    app.config.update(s3_server.settings())
    app.extensions.pop("auditflow.file_store", None)
    recommendation, users = world
    client = signed_in(app, users["worker"])
    data = make_pdf() + os.urandom(200_000)  # several chunks
    assert post_files(client, recommendation, [("조치 결과.pdf", data)]).status_code == 303
    [row] = evidence_rows(recommendation)
    bucket, prefix = app.config["STORAGE_URL"].removeprefix("s3://").split("/", 1)
    name = f"{prefix}/{row.storage_key[:2]}/{row.storage_key}"
    assert s3_server.client.get_object(Bucket=bucket, Key=name)["Body"].read() == data
    assert not any(Path(app.config["STORAGE_DIR"]).rglob(row.storage_key))  # not on disk
    assert list(file_store().tmp_dir.iterdir()) == []

    response = client.get(f"/evidence/{row.id}/download")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert filename_star(response.headers["Content-Disposition"]) == "조치 결과.pdf"
    # The access checks come first: another team gets nothing from the store.
    assert signed_in(app, users["other"]).get(f"/evidence/{row.id}/download").status_code == 404
    again = client.get(f"/evidence/{row.id}/download",
                       headers={"If-None-Match": f'"{row.sha256}"'})
    assert again.status_code == 304 and again.data == b""
    # An object gone from the bucket is a 404, not a 500.
    s3_server.client.delete_object(Bucket=bucket, Key=name)
    assert client.get(f"/evidence/{row.id}/download").status_code == 404


# ------------------------------------------------------- who may change ---


def test_liaison_can_download_but_not_upload(app, world):
    recommendation, users = world
    client = signed_in(app, users["liaison"])
    page = page_text(client.get(detail_path(recommendation)))
    assert 'name="files"' not in page
    response = post_files(client, recommendation, [("a.pdf", make_pdf())])
    assert response.status_code == 403
    assert "주관·협조 부서만" in page_text(response)
    assert_nothing_stored(recommendation)


@pytest.mark.parametrize("who", ["audit", "admin"])
def test_audit_team_and_admin_cannot_upload(app, world, who):
    recommendation, users = world
    client = signed_in(app, users[who])
    assert post_files(client, recommendation, [("a.pdf", make_pdf())]).status_code == 403
    assert_nothing_stored(recommendation)


def test_other_team_gets_404_for_every_evidence_url(app, world):
    recommendation, users = world
    evidence = ops.upload(recommendation, users["worker"], io.BytesIO(make_pdf()), "a.pdf")
    db.session.commit()
    client = signed_in(app, users["other"])
    token = csrf_token(client, "/")
    assert post_files(client, recommendation, [("b.pdf", make_pdf())], token=token).status_code == 404
    assert client.get(f"/evidence/{evidence.id}/download").status_code == 404
    response = client.post(f"/evidence/{evidence.id}/delete", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 404
    rows = evidence_rows(recommendation)
    assert len(rows) == 1 and rows[0].deleted_at is None


def _delete(client, recommendation, evidence, *, confirm: bool = True, token: str | None = "fetch"):
    data = {}
    if token == "fetch":
        token = csrf_token(client, detail_path(recommendation))
    if token is not None:
        data["csrf_token"] = token
    if confirm:
        data["confirm"] = "y"
    return client.post(f"/evidence/{evidence.id}/delete", data=data)


def test_team_deletes_before_submitting_and_it_stays_in_history(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    post_files(client, recommendation, [("지울 파일.pdf", make_pdf())])
    [row] = evidence_rows(recommendation)
    page = flashes(client, recommendation)
    assert f'action="/evidence/{row.id}/delete"' in page

    response = _delete(client, recommendation, row)

    assert response.status_code == 303
    [row] = evidence_rows(recommendation)
    assert row.deleted_at is not None and row.deleted_by_id == users["worker"].id
    assert file_store().exists(row.storage_key)  # history may still refer to it
    comments = db.session.scalars(
        select(History.comment).where(History.recommendation_id == recommendation.id,
                                      History.kind == "evidence").order_by(History.id)
    ).all()
    assert comments == ["업로드 (v1)", "삭제 (v1)"]
    page = flashes(client, recommendation)
    assert "삭제했습니다" in page
    assert f'href="/evidence/{row.id}/download"' not in page


def test_delete_needs_the_confirmation_box_and_the_token(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    post_files(client, recommendation, [("a.pdf", make_pdf())])
    [row] = evidence_rows(recommendation)
    response = _delete(client, recommendation, row, confirm=False)
    assert response.status_code == 303
    assert "삭제하려면 '삭제 확인'에 체크하세요." in flashes(client, recommendation)
    assert _delete(client, recommendation, row, token=None).status_code == 400
    assert evidence_rows(recommendation)[0].deleted_at is None


def test_delete_refused_after_submission(app, world):
    recommendation, users = world
    client = signed_in(app, users["worker"])
    post_files(client, recommendation, [("a.pdf", make_pdf())])
    [row] = evidence_rows(recommendation)
    rec_ops.fire(recommendation, "submit", users["worker"])
    db.session.commit()

    page = flashes(client, recommendation)
    assert "/delete" not in page and 'name="files"' not in page
    response = _delete(client, recommendation, row)
    assert response.status_code == 403
    assert "'검토 중' 상태에서는 증빙자료를 삭제할 수 없습니다." in page_text(response)
    assert evidence_rows(recommendation)[0].deleted_at is None


def test_liaison_and_audit_cannot_delete(app, world):
    recommendation, users = world
    evidence = ops.upload(recommendation, users["worker"], io.BytesIO(make_pdf()), "a.pdf")
    db.session.commit()
    for who in ("liaison", "audit", "admin"):
        client = signed_in(app, users[who])
        assert _delete(client, recommendation, evidence).status_code == 403, who
    assert evidence_rows(recommendation)[0].deleted_at is None
