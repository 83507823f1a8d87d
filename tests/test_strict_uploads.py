"""Strict uploads (issue 11, item 4): the name fits the content, no file is two kinds at
once, the real expanded size of a ZIP-based document is counted, a full disk is a 507.

Every malicious file is built here. Each trick is refused with nothing stored: neither
the file nor its row nor its history.
"""

from __future__ import annotations

import errno
import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from auditflow.extensions import db
from auditflow.services import evidence as ops
from auditflow.services import tokens
from auditflow.storage import KINDS, FileStore, RejectedFile, StorageFull, files, name_for, sniff
from tests.auth_helpers import csrf_token, login
from tests.factories import PASSWORD
from tests.test_evidence_service import assert_nothing_stored, evidence_history, stored_files
from tests.test_storage import make_jpeg, make_ooxml, make_pdf, make_png, write

MB = 1024 * 1024


# ------------------------------------------------------------ generators ---


def pe_executable() -> bytes:
    """The first bytes of a Windows program: DOS header, e_lfanew, the PE signature."""
    dos = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
    dos += b"\x00" * (0x3C - len(dos)) + struct.pack("<I", 0x80)
    dos += b"This program cannot be run in DOS mode.".ljust(0x80 - len(dos), b"\x00")
    return bytes(dos) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


def bare_pe() -> bytes:
    """An executable without the usual DOS header: only "MZ", e_lfanew and "PE"."""
    head = bytearray(b"MZ" + b"\x00" * 0x3A + struct.pack("<I", 0x40))
    return bytes(head) + b"PE\x00\x00" + b"\x00" * 64


def raw_zip(entries: list[tuple[str, bytes]], *, lie: dict[str, int] | None = None,
            crc_of_lie: bool = True) -> bytes:
    """A ZIP built by hand (deflate), so its central directory can state other sizes.

    ``lie`` maps an entry name to the uncompressed size both headers declare instead of
    the real one; with ``crc_of_lie`` the CRC is that of the first bytes only, so zipfile,
    which stops at the declared size, would find the entry sound.
    """
    lie = lie or {}
    body = bytearray()
    directory = bytearray()
    compressed_cache: dict[bytes, bytes] = {}
    for name, data in entries:
        if name == "mimetype":
            method, packed = 0, data
        else:
            method = 8
            if data not in compressed_cache:
                packer = zlib.compressobj(9, zlib.DEFLATED, -15)
                compressed_cache[data] = packer.compress(data) + packer.flush()
            packed = compressed_cache[data]
        size = lie.get(name, len(data))
        crc = zlib.crc32(data[:size] if (name in lie and crc_of_lie) else data)
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc,
                            len(packed), size, len(encoded), 0) + encoded + packed
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc,
                                 len(packed), size, len(encoded), 0, 0, 0, 0, 0,
                                 offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(directory), len(body), 0)
    return bytes(body + directory + end)


HWPX_PARTS = [
    ("mimetype", b"application/hwp+zip"),
    ("version.xml", b'<?xml version="1.0"?><hv:HCFVersion/>'),
    ("Contents/header.xml", b'<?xml version="1.0"?><hh:head/>'),
    ("Contents/section0.xml", b'<?xml version="1.0"?><hs:sec><hp:p>' + "증빙".encode() * 50
     + b"</hp:p></hs:sec>"),
]


def make_hwpx(extra: list[tuple[str, bytes]] = (), **options) -> bytes:  # type: ignore[assignment]
    return raw_zip(HWPX_PARTS + list(extra), **options)


def zip_of(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def nested_zip_bomb() -> bytes:
    """Zips within zips: each level holds ten copies of the one below."""
    inner = zip_of([("zeros.bin", b"\x00" * MB)])
    for _ in range(2):
        inner = zip_of([(f"layer{n}.zip", inner) for n in range(10)])
    return inner


def pdf_with_zip() -> bytes:
    """A PDF that is also a ZIP: an archive appended, its central directory at the end."""
    return make_pdf() + zip_of([("payload.exe", pe_executable())])


TRICKS = {
    # name: (file name, bytes, refusal code)
    "pdf_then_exe": ("invoice.pdf", make_pdf() + pe_executable(), "file_polyglot"),
    "pdf_then_bare_pe": ("invoice.pdf", make_pdf()[:-6] + bare_pe() + b"%%EOF\n", "file_polyglot"),
    "pdf_then_html": ("x.pdf", make_pdf() + b"<html><script>alert(1)</script></html>",
                      "file_polyglot"),
    "pdf_doctype": ("x.pdf", make_pdf() + b"\n<!DOCTYPE html>\n<p>hi", "file_polyglot"),
    "pdf_zip_polyglot": ("x.pdf", pdf_with_zip(), "file_polyglot"),
    "png_then_html": ("그림.png", make_png() + b"<svg onload=alert(1)>", "file_polyglot"),
    "jpeg_then_exe": ("사진.jpg", make_jpeg() + pe_executable(), "file_polyglot"),
    "docx_with_exe": ("보고서.docx", make_ooxml("docx", {"word/embeddings/setup.exe": pe_executable()}),
                      "file_embedded"),
    "docx_exe_renamed": ("보고서.docx", make_ooxml("docx", {"word/media/image1.png": pe_executable()}),
                         "file_embedded"),
    "docx_with_zip": ("보고서.docx", make_ooxml("docx", {"word/embeddings/a.zip": zip_of([("a", b"a")])}),
                      "file_embedded"),
    "pptx_zip_renamed": ("발표.pptx", make_ooxml("pptx", {"ppt/media/image1.jpeg": zip_of([("a", b"a")])}),
                         "file_embedded"),
    "hwpx_with_exe": ("공문.hwpx", make_hwpx([("BinData/ole1.ole", b"\xd0\xcf" + pe_executable())]),
                      "file_embedded"),
    "hwpx_nested_bomb": ("공문.hwpx", make_hwpx([("BinData/image1.png", nested_zip_bomb())]),
                         "file_embedded"),
    "hwpx_understated": ("공문.hwpx", make_hwpx([("BinData/big.dat", b"\x00" * (3 * MB))],
                                              lie={"BinData/big.dat": 1000}),
                         "zip_inconsistent"),
}


# ------------------------------------------------------------- the sniffer ---


@pytest.mark.parametrize("trick", TRICKS)
def test_every_trick_is_refused_by_the_sniffer(tmp_path, trick):
    name, data, code = TRICKS[trick]
    with pytest.raises(RejectedFile) as info:
        sniff(write(tmp_path, "upload", data))
    assert info.value.code == code, info.value.detail
    assert info.value.message == str(info.value)


def test_the_understated_entry_is_read_sound_by_zipfile_alone(tmp_path):
    """The crafted size and CRC agree, so only counting the real bytes finds the lie."""
    _, data, _ = TRICKS["hwpx_understated"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert len(archive.read("BinData/big.dat")) == 1000  # no error from zipfile
        assert archive.getinfo("BinData/big.dat").file_size == 1000
    err = pytest.raises(RejectedFile, sniff, write(tmp_path, "a.hwpx", data)).value
    assert "크기와 실제 내용의 크기가 다른" in err.message
    assert "declares 1000 bytes" in (err.detail or "")


def test_the_files_before_the_tricks_were_added_are_fine(tmp_path):
    """What each trick was made from is accepted, so the tricks are refused for the trick."""
    assert sniff(write(tmp_path, "a", make_hwpx())).key == "hwpx"
    assert sniff(write(tmp_path, "b", make_pdf())).key == "pdf"
    assert sniff(write(tmp_path, "c", make_ooxml("docx", {"word/media/image1.png": make_png()}))
                 ).key == "docx"
    truthful = make_hwpx([("BinData/big.dat", b"\x00" * (3 * MB))])
    assert sniff(write(tmp_path, "d", truthful)).key == "hwpx"
    # 한글 saves a document's own scripts in the package: part of the document, not a program.
    scripted = make_hwpx([("Scripts/headerScripts.js", "var Documents = XHwpDocuments;".encode(
        "utf-16-le")), ("Scripts/sourceScripts", b"function OnDocument_New() {}")])
    assert sniff(write(tmp_path, "e", scripted)).key == "hwpx"


def test_random_binary_content_is_no_false_alarm(tmp_path):
    """Compressed streams are random bytes: "MZ", "PK" and "<" occur in them by chance."""
    noise = random.Random(11).randbytes(3 * MB)
    assert sniff(write(tmp_path, "a", make_pdf() + noise)).key == "pdf"
    docx = make_ooxml("docx", {"word/media/image1.jpeg": make_jpeg() + noise})
    assert sniff(write(tmp_path, "b", docx)).key == "docx"


def test_a_mark_cut_by_the_chunk_boundary_is_still_found(tmp_path):
    from auditflow.storage.inspection import CHUNK

    for cut in (CHUNK - 1, CHUNK - 0x3C, CHUNK - 0x81, CHUNK + 3):
        pad = b"%" * (cut - len(make_pdf()))
        err = pytest.raises(RejectedFile, sniff,
                            write(tmp_path, f"p{cut}", make_pdf() + pad + bare_pe())).value
        assert err.code == "file_polyglot", cut


def test_ninety_nine_entries_of_ten_megabytes_are_a_bomb(tmp_path):
    """About 1 MB on disk, 990 MB expanded."""
    zeros = b"\x00" * (10 * MB)
    data = make_hwpx([(f"BinData/zero{n}.bin", zeros) for n in range(99)])
    assert len(data) < 2 * MB
    err = pytest.raises(RejectedFile, sniff, write(tmp_path, "a.hwpx", data)).value
    assert err.code == "zip_bomb"


def test_the_real_expanded_size_is_counted_against_the_cap(tmp_path):
    """Entries each below the ratio check, 207 MB in all: only the count stops them."""
    zeros = b"\x00" * (9 * MB)
    entries = [(f"BinData/zero{n}.bin", zeros) for n in range(23)]
    path = write(tmp_path, "a.hwpx", make_hwpx(entries))
    err = pytest.raises(RejectedFile, sniff, path).value
    assert err.code == "zip_bomb" and "200MB" in err.message
    assert sniff(path, max_expanded=210 * MB).key == "hwpx"


def test_lying_sizes_do_not_escape_the_cap(tmp_path):
    """Every entry declares 1,000 bytes and holds 9 MB (its CRC that of the 1,000 bytes)."""
    zeros = b"\x00" * (9 * MB)
    entries = [(f"BinData/zero{n}.bin", zeros) for n in range(30)]
    data = make_hwpx(entries, lie={name: 1000 for name, _ in entries})
    err = pytest.raises(RejectedFile, sniff, write(tmp_path, "a.hwpx", data),
                        max_expanded=5 * MB).value
    assert err.code == "zip_bomb"
    assert "more than" in (err.detail or "")


# ----------------------------------------------------------------- names ---


@pytest.mark.parametrize(("name", "key", "kept"), [
    ("보고서.pdf", "pdf", "보고서.pdf"),
    ("보고서.PDF", "pdf", "보고서.PDF"),
    ("사진.jpeg", "jpeg", "사진.jpeg"),
    ("사진.JPG", "jpeg", "사진.JPG"),
    ("공문.hwpx", "hwpx", "공문.hwpx"),
    ("결과 보고", "pdf", "결과 보고.pdf"),
    ("2026.12.03 결과", "hwp", "2026.12.03 결과.hwp"),
])
def test_a_fitting_name_is_kept_and_a_missing_extension_is_added(name, key, kept):
    assert name_for(name, KINDS[key]) == kept


@pytest.mark.parametrize(("name", "key", "label", "extension"), [
    ("invoice.exe", "pdf", "PDF", ".exe"),
    ("x.html", "pdf", "PDF", ".html"),
    ("공문.docx", "hwpx", "한글(HWPX)", ".docx"),
    ("공문.hwp", "hwpx", "한글(HWPX)", ".hwp"),
    ("그림.jpg", "png", "PNG 이미지", ".jpg"),
])
def test_a_name_that_says_another_kind_is_refused_naming_the_content(name, key, label, extension):
    with pytest.raises(RejectedFile) as info:
        name_for(name, KINDS[key])
    assert info.value.code == "extension_mismatch"
    assert f"파일 내용은 {label} 형식" in info.value.message
    assert f"'{extension}'" in info.value.message
    assert f"'{KINDS[key].extensions[0]}'" in info.value.message


def test_every_allowed_kind_has_its_extensions():
    assert all(kind.extensions and all(e.startswith(".") and e == e.lower()
                                       for e in kind.extensions) for kind in KINDS.values())


# --------------------------------------------------------------- service ---


@pytest.fixture
def app_config():
    return {"MAX_UPLOAD_MB": 5}


@pytest.fixture
def item(make):
    team = make.team("AI동행팀")
    recommendation = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    db.session.commit()
    return recommendation, worker


def up(name: str, data: bytes) -> ops.Upload:
    return ops.Upload(io.BytesIO(data), name)


@pytest.mark.parametrize("trick", TRICKS)
def test_every_trick_is_refused_with_nothing_stored(item, trick):
    recommendation, worker = item
    name, data, code = TRICKS[trick]
    with pytest.raises(ops.EvidenceRejected) as info:
        ops.upload_many(recommendation, worker, [up("좋은.pdf", make_pdf()), up(name, data)])
    assert info.value.code == code
    assert f"'{name}'" in info.value.message
    db.session.commit()
    assert_nothing_stored(recommendation)


@pytest.mark.parametrize(("name", "data", "label"), [
    ("invoice.exe", make_pdf(), "PDF"),
    ("x.html", make_pdf(), "PDF"),
    ("조치결과.pdf", make_png(), "PNG 이미지"),
])
def test_a_mismatched_name_is_refused_with_nothing_stored(item, name, data, label):
    recommendation, worker = item
    with pytest.raises(ops.EvidenceRejected) as info:
        ops.upload(recommendation, worker, io.BytesIO(data), name)
    assert info.value.code == "extension_mismatch"
    assert f"'{name}'" in info.value.message and label in info.value.message
    db.session.commit()
    assert_nothing_stored(recommendation)


def test_a_name_without_extension_is_kept_with_the_kinds(item):
    recommendation, worker = item
    evidence = ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "결과 보고")
    db.session.commit()
    assert evidence.original_name == "결과 보고.pdf"
    assert [h.new_value for h in evidence_history(recommendation)] == ["결과 보고.pdf"]


def test_the_cap_comes_from_the_configuration(app, item):
    recommendation, worker = item
    entries = [(f"BinData/zero{n}.bin", b"\x00" * MB) for n in range(3)]
    app.config["MAX_EXPANDED_MB"] = 2
    with pytest.raises(ops.EvidenceRejected) as info:
        ops.upload(recommendation, worker, io.BytesIO(make_hwpx(entries)), "공문.hwpx")
    assert info.value.code == "zip_bomb" and "2MB" in info.value.message
    assert_nothing_stored(recommendation)
    app.config["MAX_EXPANDED_MB"] = 4
    ops.upload(recommendation, worker, io.BytesIO(make_hwpx(entries)), "공문.hwpx")
    db.session.commit()
    assert len(stored_files()) == 1


# ------------------------------------------------------------- full disk ---


def no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_is_507_with_nothing_stored(item, monkeypatch, error):
    recommendation, worker = item

    def full(_fd, _data):
        raise OSError(error, "full")

    monkeypatch.setattr(files, "_write_all", full)
    with pytest.raises(StorageFull) as info:
        ops.upload_many(recommendation, worker, [up("a.pdf", make_pdf()), up("b.pdf", make_pdf())])
    assert (info.value.status, info.value.code) == (507, "storage_full")
    db.session.commit()
    assert_nothing_stored(recommendation)


def test_a_full_disk_at_fsync_is_507_too(item, monkeypatch):
    recommendation, worker = item
    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(StorageFull):
        ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    assert_nothing_stored(recommendation)


def test_another_write_error_is_not_called_a_full_disk(item, monkeypatch):
    recommendation, worker = item

    def broken(_fd, _data):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files, "_write_all", broken)
    with pytest.raises(OSError) as info:
        ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf")
    assert not isinstance(info.value, StorageFull)
    assert_nothing_stored(recommendation)


def test_the_store_writes_every_byte_when_the_system_writes_few(tmp_path, monkeypatch):
    real_write = files.os.write
    monkeypatch.setattr(files.os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    store = FileStore(tmp_path)
    data = make_pdf() * 50
    stored, temp = store.save(io.BytesIO(data))
    assert temp.read_bytes() == data and stored.size == len(data)


# ------------------------------------------------------------ web and API ---


def _web_client(app, user):
    client = app.test_client()
    login(client, user.login, PASSWORD)
    return client


def _post(client, recommendation, name, data):
    token = csrf_token(client, f"/recommendations/{recommendation.id}")
    return client.post(f"/recommendations/{recommendation.id}/evidence",
                       data={"files": [(io.BytesIO(data), name)], "csrf_token": token},
                       content_type="multipart/form-data")


def test_the_page_refuses_a_pdf_named_exe_in_korean(app, item):
    recommendation, worker = item
    client = _web_client(app, worker)
    answer = _post(client, recommendation, "invoice.exe", make_pdf())
    assert answer.status_code == 303
    page = client.get(f"/recommendations/{recommendation.id}").get_data(as_text=True)
    assert "파일 내용은 PDF 형식인데" in page and "invoice.exe" in page
    assert_nothing_stored(recommendation)


def test_the_page_answers_a_full_disk_with_a_korean_507(app, item, monkeypatch):
    recommendation, worker = item
    client = _web_client(app, worker)
    monkeypatch.setattr(files, "_write_all", no_space)
    answer = _post(client, recommendation, "보고.pdf", make_pdf())
    assert answer.status_code == 507
    assert "저장 공간이 부족" in answer.get_data(as_text=True)
    assert_nothing_stored(recommendation)


def test_a_full_disk_as_the_files_move_at_commit_is_507(app, item, monkeypatch):
    recommendation, worker = item
    client = _web_client(app, worker)
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.parent == Path(app.config["STORAGE_DIR"]).resolve() and self.name != "tmp":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    answer = _post(client, recommendation, "보고.pdf", make_pdf())
    assert answer.status_code == 507
    assert "저장 공간이 부족" in answer.get_data(as_text=True)
    assert_nothing_stored(recommendation)


def _api_client(app, user):
    secret = tokens.create(user, name="시험", scope="write").secret
    db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def test_the_api_answers_a_full_disk_with_a_507_problem(app, item, monkeypatch):
    recommendation, worker = item
    client = _api_client(app, worker)
    monkeypatch.setattr(files, "_write_all", no_space)
    answer = client.post(f"/api/v1/recommendations/{recommendation.id}/evidence",
                         data={"files": [(io.BytesIO(make_pdf()), "보고.pdf")]})
    assert answer.status_code == 507 and answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["code"] == "storage_full" and "저장 공간이 부족" in body["detail"]
    assert_nothing_stored(recommendation)


def test_the_api_refuses_a_polyglot_with_its_code(app, item):
    recommendation, worker = item
    client = _api_client(app, worker)
    name, data, code = TRICKS["pdf_zip_polyglot"]
    answer = client.post(f"/api/v1/recommendations/{recommendation.id}/evidence",
                         data={"files": [(io.BytesIO(data), name)]})
    assert answer.status_code == 400 and answer.get_json()["code"] == code
    assert_nothing_stored(recommendation)


class _FullTempFile(io.BytesIO):
    def write(self, data):  # type: ignore[override]
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_the_request_is_parsed_is_507(app, item, monkeypatch):
    """The form parser's own temp file fills the disk before any view runs."""
    from flask import Request

    recommendation, worker = item
    client = _web_client(app, worker)
    token = csrf_token(client, f"/recommendations/{recommendation.id}")
    monkeypatch.setattr(Request, "_get_file_stream", lambda *args, **kwargs: _FullTempFile())
    answer = client.post(f"/recommendations/{recommendation.id}/evidence",
                         data={"files": [(io.BytesIO(make_pdf()), "보고.pdf")],
                               "csrf_token": token},
                         content_type="multipart/form-data")
    assert answer.status_code == 507
    assert "저장 공간이 부족" in answer.get_data(as_text=True)
    assert_nothing_stored(recommendation)
