"""A body that cannot succeed is refused before it is read; every body has a ceiling.

The body streams count what the application reads of them, so "nothing was spooled"
is checked by the bytes read and by the file parts the form parser opened.
"""

from __future__ import annotations

import pytest

from auditflow.web.evidence.uploads import UploadLimitedRequest
from tests.auth_helpers import csrf_token, login
from tests.factories import PASSWORD

BOUNDARY = "auditflow-test-boundary"
FIFTY_MB = 50 * 1024 * 1024


class MultipartBody:
    """A multipart body with one file part of ``size`` bytes, made as it is read, that
    counts how much of it was read."""

    def __init__(self, size: int, fields: dict[str, str] | None = None) -> None:
        head = "".join(
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            for name, value in (fields or {}).items())
        head += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; "
                 f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
        self.head = head.encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.length = len(self.head) + size + len(self.tail)
        self.read_bytes = 0

        self.position = 0

    def read(self, n: int = -1) -> bytes:
        left = self.length - self.position
        n = left if n is None or n < 0 else min(n, left)
        start = self.position
        self.position += n
        self.read_bytes += n
        head, size = len(self.head), self.size
        out = bytearray()
        if start < head:
            out += self.head[start:min(head, start + n)]
        body_from, body_to = max(start, head), min(start + n, head + size)
        if body_to > body_from:
            out += b"%" * (body_to - body_from)
        tail_from = max(start, head + size)
        if start + n > tail_from:
            out += self.tail[tail_from - head - size:start + n - head - size]
        return bytes(out)

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit if limit and limit > 0 else 65536)

    # The test client measures the body by seeking to its end and back: no bytes are read.
    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: 0, 1: self.position, 2: self.length}[whence] + offset
        return self.position


@pytest.fixture
def file_parts(monkeypatch):
    """The file parts the form parser opened (each would be spooled to the temp folder)."""
    opened: list[str | None] = []
    original = UploadLimitedRequest._get_file_stream

    def counting(self, total_content_length, content_type, filename=None, content_length=None):
        opened.append(filename)
        return original(self, total_content_length, content_type, filename, content_length)

    monkeypatch.setattr(UploadLimitedRequest, "_get_file_stream", counting)
    return opened


def post_body(client, path: str, body: MultipartBody, **kwargs):
    return client.post(path, input_stream=body,
                       content_type=f"multipart/form-data; boundary={BOUNDARY}", **kwargs)


def test_a_signed_out_50_mb_multipart_to_login_is_413_and_never_read(app, file_parts):
    client = app.test_client()
    client.get("/login")  # the session holds a form token, but nobody is signed in
    body = MultipartBody(FIFTY_MB)
    response = post_body(client, "/login", body)
    assert response.status_code == 413
    assert "로그인하지 않았거나 보안 토큰이 없는 요청은 64KB까지" in response.get_data(as_text=True)
    assert body.read_bytes == 0
    assert file_parts == []


def test_a_signed_out_body_without_a_length_stops_at_the_limit(app, file_parts):
    client = app.test_client()
    body = MultipartBody(FIFTY_MB)
    response = post_body(client, "/login", body, environ_overrides={
        "CONTENT_LENGTH": None, "wsgi.input_terminated": True})
    assert response.status_code == 413
    # Read as it came, and stopped at the limit (and at most one read beyond it).
    assert 0 < body.read_bytes <= 64 * 1024 + 65536


def test_a_signed_in_session_without_a_form_token_is_held_to_the_same_limit(app, make):
    user = make.user("department")
    client = app.test_client()
    assert login(client, user.login, PASSWORD).status_code == 303
    with client.session_transaction() as session:
        session.pop("csrf_token", None)  # as a cookie made before any form was shown
    body = MultipartBody(1024 * 1024)
    response = post_body(client, "/recommendations/1/evidence", body)
    assert response.status_code == 413
    assert body.read_bytes == 0


def test_a_signed_in_form_may_send_a_large_body(app, make, file_parts):
    user = make.user("department")
    client = app.test_client()
    assert login(client, user.login, PASSWORD).status_code == 303
    token = csrf_token(client, "/account/password")
    body = MultipartBody(256 * 1024, fields={"csrf_token": token})
    response = post_body(client, "/recommendations/999999/evidence", body)
    # Read and parsed (the file part was opened), then refused for what it is: no such item.
    assert response.status_code == 404
    assert file_parts == ["big.pdf"]


def test_every_body_has_a_ceiling(app):
    config = app.config
    assert config["MAX_CONTENT_LENGTH"] == (
        config["MAX_UPLOAD_MB"] * config["MAX_UPLOAD_FILES"] + 1) * 1024 * 1024
    assert config["MAX_FORM_MEMORY_SIZE"] and config["MAX_FORM_PARTS"]


def test_over_the_ceiling_a_signed_in_upload_is_413(app, make):
    app.config["MAX_CONTENT_LENGTH"] = 512 * 1024
    user = make.user("department")
    client = app.test_client()
    assert login(client, user.login, PASSWORD).status_code == 303
    token = csrf_token(client, "/account/password")
    body = MultipartBody(1024 * 1024, fields={"csrf_token": token})
    response = post_body(client, "/recommendations/1/evidence", body)
    assert response.status_code == 413
    assert body.read_bytes == 0
