"""Tests for auditflow.storage: content sniffing, atomic storage, file names.

Real HWP/HWPX evidence files are read from ``shared/samples/evidence`` beside
the checkout (never copied into the repository). Everything else is built
here, in ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import unicodedata
import unittest.mock
import zipfile
import zlib
from pathlib import Path
from urllib.parse import unquote

import olefile
import pytest

from auditflow.storage import (
    ALLOWED_LABEL,
    CHUNK_SIZE,
    FileStore,
    FileTooLarge,
    LocalFolderStore,
    RejectedFile,
    Storage,
    clean_filename,
    content_disposition,
    sniff,
)
from auditflow.storage.s3 import S3Store
from tests.conftest import evidence_sample

# Real HWP/HWPX files of the shared material (see its NOTICE.md): read there, never copied.
sample = evidence_sample


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rejected(path: Path) -> RejectedFile:
    with pytest.raises(RejectedFile) as info:
        sniff(path)
    err = info.value
    assert err.message and err.message == str(err)
    return err


# ------------------------------------------------------------ generators ---


def make_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{ctype}"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{part}"/></Relationships>'
)
OOXML_PARTS = {
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>감사 결과 조치 보고</w:t></w:r></w:p></w:body></w:document>",
    ),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>',
    ),
}


def make_ooxml(kind: str, extra: dict[str, bytes] | None = None) -> bytes:
    part, ctype, body = OOXML_PARTS[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES.format(part=part, ctype=ctype))
        zf.writestr("_rels/.rels", RELS.format(part=part))
        zf.writestr(part, body)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "조치결과"
    ws.append(["권고번호", "조치내용"])
    ws.append([1, "완료"])
    wb.save(path)
    return path


def make_png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def make_zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            compress = zipfile.ZIP_STORED if name == "mimetype" else method
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compress)
    return buf.getvalue()


def hwpx_entries(src: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(src) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def rename_ole_entry(data: bytes, old: str, new: str) -> bytes:
    """Rename a directory entry of an OLE file in place (olefile cannot write)."""
    needle = old.encode("utf-16-le") + b"\x00\x00"
    name = new.encode("utf-16-le") + b"\x00\x00"
    out = bytearray(data)
    patched = 0
    pos = out.find(needle)
    while pos >= 0:  # files may hold a stale copy of the directory too: patch all
        if pos % 128 == 0 and struct.unpack_from("<H", out, pos + 64)[0] == len(needle):
            out[pos : pos + 64] = name.ljust(64, b"\x00")
            struct.pack_into("<H", out, pos + 64, len(name))
            patched += 1
        pos = out.find(needle, pos + 1)
    assert patched, f"directory entry {old!r} not found"
    return bytes(out)


# --------------------------------------------------- recognised: real files ---

REAL_FILES = [
    ("seoul_sihaengmun.hwpx", "hwpx", "application/hwp+zip", "한글(HWPX)"),
    ("mfds_admin_notice.hwpx", "hwpx", "application/hwp+zip", "한글(HWPX)"),
    ("reader_writer__SimpleCompose.hwpx", "hwpx", "application/hwp+zip", "한글(HWPX)"),
    ("table.hwp", "hwp", "application/x-hwp", "한글(HWP)"),
    ("viewtext.hwp", "hwp", "application/x-hwp", "한글(HWP)"),
]


@pytest.mark.parametrize(("name", "key", "mime", "label"), REAL_FILES)
def test_real_hwp_and_hwpx_recognised(name, key, mime, label):
    kind = sniff(sample(name))
    assert (kind.key, kind.mime, kind.label) == (key, mime, label)
    if name != "viewtext.hwp":
        assert kind.note is None


def test_real_hwp_recognised_whatever_its_name(tmp_path):
    renamed = write(tmp_path, "scan.jpg", sample("table.hwp").read_bytes())
    assert sniff(renamed).key == "hwp"


def test_distribution_hwp_accepted_with_mild_note():
    path = sample("viewtext.hwp")
    with olefile.OleFileIO(path) as ole:
        (flags,) = struct.unpack_from("<I", ole.openstream("FileHeader").read(), 36)
    assert flags & 0b100 and not flags & 0b10  # distribution document, not encrypted
    kind = sniff(path)
    assert kind.key == "hwp"
    assert kind.note is not None and "배포용" in kind.note


def test_encrypted_hwp_is_accepted_with_a_warning_note():
    path = sample("password-12345.hwp")
    with olefile.OleFileIO(path) as ole:
        (flags,) = struct.unpack_from("<I", ole.openstream("FileHeader").read(), 36)
    assert flags & 0b10, "sample should carry the password flag"
    kind = sniff(path)
    assert kind.key == "hwp"
    assert kind.mime == "application/x-hwp"
    assert kind.note is not None
    assert "암호" in kind.note and "검토자" in kind.note


def test_encrypted_hwpx_is_accepted_with_the_same_note(tmp_path):
    manifest = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        b'<odf:file-entry full-path="Contents/header.xml" media-type="application/xml">'
        b'<odf:encryption-data checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k" checksum="x"/>'
        b"</odf:file-entry></odf:manifest>"
    )
    entries = [
        (n, manifest if n == "META-INF/manifest.xml" else d)
        for n, d in hwpx_entries(sample("reader_writer__SimpleCompose.hwpx"))
    ]
    kind = sniff(write(tmp_path, "암호.hwpx", make_zip(entries)))
    assert kind.key == "hwpx"
    assert kind.note == sniff(sample("password-12345.hwp")).note


def test_incomplete_hwpx_is_rejected_and_user_told_to_resave():
    err = rejected(sample("irb_form_blank.hwpx"))
    assert err.code == "hwpx_incomplete"
    assert "손상" in err.message and "다시 저장" in err.message and "한글" in err.message
    assert "Contents/header.xml" in (err.detail or "")


def test_hwpx_without_sections_is_incomplete(tmp_path):
    entries = [
        (n, d)
        for n, d in hwpx_entries(sample("seoul_sihaengmun.hwpx"))
        if not n.startswith("Contents/section")
    ]
    assert entries[0][0] == "mimetype"
    err = rejected(write(tmp_path, "x.hwpx", make_zip(entries)))
    assert err.code == "hwpx_incomplete"
    assert "section" in (err.detail or "")


# ---------------------------------------------- recognised: generated files ---


def test_generated_pdf_is_valid_and_recognised(tmp_path):
    from pypdf import PdfReader

    path = write(tmp_path, "결과.dat", make_pdf())
    assert len(PdfReader(path).pages) == 1
    kind = sniff(path)
    assert (kind.key, kind.mime, kind.label, kind.note) == ("pdf", "application/pdf", "PDF", None)


@pytest.mark.parametrize(
    ("kind_key", "mime", "label"),
    [
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "워드(DOCX)",
        ),
        (
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "파워포인트(PPTX)",
        ),
    ],
)
def test_generated_docx_pptx_recognised(tmp_path, kind_key, mime, label):
    kind = sniff(write(tmp_path, "문서.zip", make_ooxml(kind_key)))
    assert (kind.key, kind.mime, kind.label) == (kind_key, mime, label)


def test_openpyxl_xlsx_recognised(tmp_path):
    kind = sniff(make_xlsx(tmp_path / "조치현황.xlsx"))
    assert kind.key == "xlsx"
    assert kind.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert kind.label == "엑셀(XLSX)"


@pytest.mark.parametrize(
    ("maker", "key", "mime", "label"),
    [
        (make_png, "png", "image/png", "PNG 이미지"),
        (make_jpeg, "jpeg", "image/jpeg", "JPEG 이미지"),
    ],
)
def test_images_recognised(tmp_path, maker, key, mime, label):
    kind = sniff(write(tmp_path, "사진.pdf", maker()))
    assert (kind.key, kind.mime, kind.label) == (key, mime, label)


# -------------------------------------------------------------- rejections ---


def test_renamed_executable_rejected(tmp_path):
    err = rejected(write(tmp_path, "보고서.pdf", b"MZ" + b"\x90\x00" * 100 + b"PE\x00\x00"))
    assert err.code == "file_type_not_allowed"
    assert ALLOWED_LABEL in err.message
    assert err.message.startswith("허용되지 않는 파일 형식입니다.")


@pytest.mark.parametrize(
    "data",
    [
        b"\x7fELF\x02\x01\x01" + b"\x00" * 50,
        b"#!/bin/sh\nrm -rf /\n",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "감사 결과 조치 내용입니다.".encode(),
        b" %PDF-1.4 not at the start",
    ],
    ids=["elf", "script", "html", "gif", "text", "pdf-not-at-start"],
)
def test_other_content_rejected(tmp_path, data):
    err = rejected(write(tmp_path, "증빙.pdf", data))
    assert err.code == "file_type_not_allowed"


def test_empty_file_rejected(tmp_path):
    err = rejected(write(tmp_path, "빈파일.hwp", b""))
    assert err.code == "file_empty"
    assert "빈 파일" in err.message


def test_hwp3_rejected_with_its_own_message(tmp_path):
    err = rejected(write(tmp_path, "old.hwp", b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05"))
    assert err.code == "file_type_not_allowed"
    assert "HWP 3.0" in err.message


def test_plain_zip_rejected(tmp_path):
    err = rejected(
        write(tmp_path, "자료.zip", make_zip([("a.txt", b"hello"), ("b/c.pdf", make_pdf())]))
    )
    assert err.code == "file_type_not_allowed"


def test_odt_like_zip_rejected(tmp_path):
    data = make_zip(
        [("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<x/>")]
    )
    assert rejected(write(tmp_path, "a.hwpx", data)).code == "file_type_not_allowed"


def test_hwpx_mimetype_not_first_rejected(tmp_path):
    entries = hwpx_entries(sample("reader_writer__SimpleCompose.hwpx"))
    assert entries[0][0] == "mimetype"
    reordered = entries[1:] + entries[:1]
    err = rejected(write(tmp_path, "문서.hwpx", make_zip(reordered)))
    assert err.code == "file_type_not_allowed"


def test_macro_enabled_office_rejected(tmp_path):
    data = make_ooxml("docx", extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    err = rejected(write(tmp_path, "보고.docx", data))
    assert err.code == "file_type_not_allowed"
    assert "매크로" in err.message


def test_zip_with_too_many_entries_is_a_bomb(tmp_path):
    data = make_zip([(f"f{i}", b"") for i in range(10_001)], method=zipfile.ZIP_STORED)
    err = rejected(write(tmp_path, "many.docx", data))
    assert err.code == "zip_bomb"
    assert "10001" in (err.detail or "")


def test_zip_lying_about_its_entry_count_is_still_a_bomb(tmp_path):
    data = bytearray(make_zip([(f"f{i}", b"") for i in range(10_001)], method=zipfile.ZIP_STORED))
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 1, 1)  # claim a single entry
    err = rejected(write(tmp_path, "liar.docx", bytes(data)))
    assert err.code == "zip_bomb"
    assert err.detail == "10001 entries (limit 10000)"


def test_zip_with_exactly_the_entry_limit_is_fine(tmp_path):
    extra = {f"word/media/e{i}.txt": b"" for i in range(10_000 - 3)}
    data = make_ooxml("docx", extra=extra)
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 10_000
    assert sniff(write(tmp_path, "ok.docx", data)).key == "docx"


def test_highly_compressed_entry_is_a_bomb(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))
    assert len(buf.getvalue()) < 100_000  # 20 MB of zeros in a few KB
    err = rejected(write(tmp_path, "zeros.docx", buf.getvalue()))
    assert err.code == "zip_bomb"
    assert "ratio" in (err.detail or "")


def test_huge_declared_total_is_a_bomb(tmp_path):
    # Two stored entries whose central-directory sizes claim 600 MB each
    # (ratio 1, so only the 1 GiB total rule can catch it).
    data = bytearray(make_zip([("a.bin", b"x"), ("b.bin", b"y")], method=zipfile.ZIP_STORED))
    pos = 0
    patched = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        struct.pack_into("<II", data, pos + 20, 600_000_000, 600_000_000)
        pos += 4
        patched += 1
    assert patched == 2
    err = rejected(write(tmp_path, "big.hwpx", bytes(data)))
    assert err.code == "zip_bomb"
    assert "total" in (err.detail or "")


def test_ole_that_is_not_hwp_rejected(tmp_path):
    data = rename_ole_entry(sample("table.hwp").read_bytes(), "FileHeader", "WordDocume")
    path = write(tmp_path, "old.doc", data)
    with olefile.OleFileIO(path) as ole:  # still a readable OLE file
        assert ole.exists("WordDocume") and not ole.exists("FileHeader")
    err = rejected(path)
    assert err.code == "file_type_not_allowed"
    assert ALLOWED_LABEL in err.message


def test_ole_with_foreign_fileheader_rejected(tmp_path):
    data = sample("table.hwp").read_bytes()
    path = write(tmp_path, "x.hwp", data.replace(b"HWP Document File", b"XYZ Document File"))
    with olefile.OleFileIO(path) as ole:
        assert ole.openstream("FileHeader").read().startswith(b"XYZ Document File")
    assert rejected(path).code == "file_type_not_allowed"


def test_password_protected_office_file_rejected_with_hint(tmp_path):
    data = sample("table.hwp").read_bytes()
    data = rename_ole_entry(data, "PrvImage", "EncryptionInfo")
    data = rename_ole_entry(data, "PrvText", "EncryptedPackage")
    path = write(tmp_path, "보안.xlsx", data)
    with olefile.OleFileIO(path) as ole:
        assert ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    err = rejected(path)
    assert err.code == "file_type_not_allowed"
    assert "암호" in err.message


@pytest.mark.parametrize(
    "data",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600,
        b"PK\x03\x04" + b"\x00" * 100,
        b"PK\x03\x04garbage",
    ],
    ids=["ole-garbage", "zip-garbage", "zip-short"],
)
def test_corrupt_containers_rejected_cleanly(tmp_path, data):
    err = rejected(write(tmp_path, "broken.hwp", data))
    assert err.code == "file_corrupt"
    assert "손상" in err.message


def test_truncated_hwp_and_hwpx_rejected_cleanly(tmp_path):
    for name in ("table.hwp", "seoul_sihaengmun.hwpx"):
        data = sample(name).read_bytes()
        err = rejected(write(tmp_path, "cut-" + name, data[: len(data) // 2]))
        assert err.code == "file_corrupt", (name, err.detail)


def test_sniff_on_missing_path_is_a_caller_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        sniff(tmp_path / "nope")


# --------------------------------------------------------------- FileStore ---


class RecordingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.requests: list[int] = []

    def read(self, size=-1):
        self.requests.append(size)
        return super().read(size)


def tmp_files(store) -> list[Path]:
    return list(store.tmp_dir.iterdir())


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path) -> Storage:
    """The same tests for the folder and for the object store (moto's server, a prefix
    of the test's own)."""
    if request.param == "folder":
        return LocalFolderStore(tmp_path / "store")
    server = request.getfixturevalue("s3_server")
    return S3Store(server.bucket, f"t-{os.urandom(6).hex()}", tmp_path / "s3-tmp",
                   client=server.client)


def test_filestore_creates_root_and_tmp(tmp_path):
    store = FileStore(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / "tmp").is_dir()
    assert store.root == (tmp_path / "a" / "b").resolve()


def test_save_streams_hashes_and_counts(store):
    data = os.urandom(3 * CHUNK_SIZE + 123)
    stream = RecordingStream(data)
    stored, temp = store.save(stream, max_bytes=10 * 1024 * 1024)

    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert temp.parent == store.tmp_dir and temp.read_bytes() == data
    assert all(0 < n <= CHUNK_SIZE for n in stream.requests), stream.requests
    assert len(stream.requests) >= 4
    # random hex key, nothing visible under it yet
    assert len(stored.key) == 32 and int(stored.key, 16) >= 0
    assert not store.exists(stored.key)
    assert list(store.keys()) == []


def test_save_gives_distinct_keys(store):
    keys = {store.save(io.BytesIO(b"same"))[0].key for _ in range(5)}
    assert len(keys) == 5


def test_save_at_exact_limit_is_fine(store):
    stored, temp = store.save(io.BytesIO(b"x" * 1000), max_bytes=1000)
    assert stored.size == 1000 and temp.exists()


def test_save_over_limit_raises_and_leaves_nothing(store):
    limit = 5 * 1024 * 1024
    with pytest.raises(FileTooLarge) as info:
        store.save(io.BytesIO(b"\x00" * (limit + 1)), max_bytes=limit)
    err = info.value
    assert err.code == "file_too_large" and err.limit == limit
    assert "5MB" in err.message
    assert isinstance(err, RejectedFile)
    assert tmp_files(store) == []


def test_save_failure_midstream_leaves_nothing(store):
    class Broken(io.RawIOBase):
        calls = 0

        def read(self, size=-1):
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError("client went away")
            return b"a" * size

    with pytest.raises(ConnectionResetError):
        store.save(Broken())
    assert tmp_files(store) == []


def test_commit_makes_the_bytes_visible_under_the_key(store):
    stored, temp = store.save(io.BytesIO(b"evidence"))
    store.commit(temp, stored.key)

    assert not temp.exists()
    assert tmp_files(store) == []
    assert store.exists(stored.key)
    assert list(store.keys()) == [stored.key]
    assert store.size(stored.key) == len(b"evidence")
    assert store.sha256(stored.key) == hashlib.sha256(b"evidence").hexdigest()
    with store.open(stored.key) as fh:
        assert fh.read() == b"evidence"

    store.discard(temp)  # already moved: no error
    store.remove(stored.key)
    assert not store.exists(stored.key) and list(store.keys()) == []
    store.remove(stored.key)  # missing: no error
    with pytest.raises(FileNotFoundError):
        store.open(stored.key)
    with pytest.raises(FileNotFoundError):
        store.sha256(stored.key)
    with pytest.raises(FileNotFoundError):
        store.size(stored.key)


def test_commit_streams_a_large_file_whole(store):
    data = os.urandom(9 * 1024 * 1024 + 17)  # past boto3's multipart threshold (8 MiB)
    stored, temp = store.save(io.BytesIO(data))
    store.commit(temp, stored.key)
    assert store.size(stored.key) == len(data)
    assert store.sha256(stored.key) == stored.sha256 == hashlib.sha256(data).hexdigest()


def test_commit_never_replaces_a_stored_file(store):
    stored, temp = store.save(io.BytesIO(b"first"))
    store.commit(temp, stored.key)
    _, second = store.save(io.BytesIO(b"second"))
    with pytest.raises(FileExistsError):
        store.commit(second, stored.key)
    with store.open(stored.key) as fh:
        assert fh.read() == b"first"


def test_folder_commit_moves_into_place(tmp_path):
    store = FileStore(tmp_path)
    stored, temp = store.save(io.BytesIO(b"evidence"))
    final = store.commit(temp, stored.key)
    assert final == store.root / stored.key[:2] / stored.key == store.local_path(stored.key)
    assert final.read_bytes() == b"evidence"


def test_object_store_keeps_objects_under_its_prefix(s3_server, tmp_path):
    store = S3Store(s3_server.bucket, "some/prefix", tmp_path, client=s3_server.client)
    other = S3Store(s3_server.bucket, "other", tmp_path / "o", client=s3_server.client)
    stored, temp = store.save(io.BytesIO(b"evidence"))
    store.commit(temp, stored.key)
    name = f"some/prefix/{stored.key[:2]}/{stored.key}"
    assert s3_server.client.get_object(Bucket=s3_server.bucket, Key=name)["Body"].read() \
        == b"evidence"
    assert store.local_path(stored.key) is None
    assert not other.exists(stored.key) and list(other.keys()) == []
    store.remove(stored.key)


def test_discard_removes_temp(store):
    _, temp = store.save(io.BytesIO(b"x"))
    store.discard(temp)
    assert not temp.exists() and tmp_files(store) == []


def test_commit_and_discard_refuse_paths_outside_tmp(store, tmp_path):
    outside = write(tmp_path, "victim.txt", b"keep me")
    with pytest.raises(ValueError):
        store.discard(outside)
    with pytest.raises(ValueError):
        store.commit(outside, "ab" * 16)
    assert outside.read_bytes() == b"keep me"
    assert not store.exists("ab" * 16)


BAD_KEYS = [
    "../x",
    "../../etc/passwd",
    "ab/" + "c" * 29,
    "z" * 32,
    "AB" * 16,
    "ab" * 15,
    "ab" * 17,
    "",
    "ab" * 15 + "a\n",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_path_refuses_bad_keys(tmp_path, key):
    store = FileStore(tmp_path)
    with pytest.raises(ValueError):
        store.path(key)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_operation_refuses_bad_keys(store, key):
    _, temp = store.save(io.BytesIO(b"x"))
    for operation in (store.exists, store.open, store.remove, store.sha256, store.size):
        with pytest.raises(ValueError):
            operation(key)
    with pytest.raises(ValueError):
        store.commit(temp, key)


def test_path_of_valid_key(tmp_path):
    store = FileStore(tmp_path)
    key = "0123456789abcdef" * 2
    assert store.path(key) == store.root / "01" / key


def test_store_sniff_commit_flow(store):
    """The service flow: a good file ends up stored, a bad one leaves nothing."""
    stored, temp = store.save(io.BytesIO(make_pdf()))
    assert sniff(temp).key == "pdf"
    store.commit(temp, stored.key)
    with store.open(stored.key) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == stored.sha256

    stored2, temp2 = store.save(io.BytesIO(b"MZ" + b"\x00" * 500))
    with pytest.raises(RejectedFile):
        sniff(temp2)
    store.discard(temp2)
    assert tmp_files(store) == []
    assert not store.exists(stored2.key)
    assert list(store.keys()) == [stored.key]


# ------------------------------------------------------------- file names ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("감사결과_보고서.hwp", "감사결과_보고서.hwp"),
        ("../../x.pdf", "x.pdf"),
        ("C:\\Users\\a\\보고서.hwp", "보고서.hwp"),
        ("/tmp/../조치\\결과.pdf", "결과.pdf"),
        ("보고\x00서\x1b\x7f.hwp", "보고서.hwp"),
        ("사진\u202egpj.exe", "사진gpj.exe"),
        ("\ufeff첨부.pdf", "첨부.pdf"),
        ("  보고서   최종\u3000\t .hwp  ", "보고서 최종 .hwp"),
        ("보고서\n최종.hwp", "보고서 최종.hwp"),
        ("..hidden.pdf", "hidden.pdf"),
        (" . .  x.pdf", "x.pdf"),
        ("", "이름없는파일"),
        ("...", "이름없는파일"),
        ("dir/", "이름없는파일"),
        ("\x00\x01", "이름없는파일"),
    ],
)
def test_clean_filename(raw, expected):
    assert clean_filename(raw) == expected


def test_clean_filename_nfd_to_nfc():
    nfd = unicodedata.normalize("NFD", "감사결과.hwp")
    assert nfd != "감사결과.hwp" and len(nfd) > len("감사결과.hwp")
    cleaned = clean_filename(nfd)
    assert cleaned == "감사결과.hwp"
    assert unicodedata.is_normalized("NFC", cleaned)


def test_clean_filename_limits_length_keeping_extension():
    cleaned = clean_filename("가" * 300 + ".hwpx")
    assert len(cleaned) == 200
    assert cleaned.endswith("가.hwpx")
    no_ext = clean_filename("나" * 300)
    assert no_ext == "나" * 200


def test_content_disposition_round_trips_korean():
    name = '2024 감사결과 "최종" 보고서 100%.hwp'
    header = content_disposition(name)
    assert header.startswith('attachment; filename="')
    assert header.isascii()
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "2024 ____ __ ___ 100%.hwp"
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert " " not in encoded and ";" not in encoded and '"' not in encoded
    assert unquote(encoded, encoding="utf-8", errors="strict") == name


def test_content_disposition_cannot_inject_headers():
    header = content_disposition("a\r\nSet-Cookie: x=1.pdf")
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="a Set-Cookie: x=1.pdf"; ')


def test_sweep_removes_only_old_temp_files(store):
    stored, kept = store.save(io.BytesIO(b"fresh"))
    _, old = store.save(io.BytesIO(b"left by a crash"))
    committed_source, committed_temp = store.save(io.BytesIO(b"committed"))
    store.commit(committed_temp, committed_source.key)
    os.utime(old, (1_000, 1_000))
    removed = store.sweep(older_than_seconds=3600)
    assert removed == [str(old)]
    assert not old.exists()
    assert kept.exists()
    assert store.exists(committed_source.key)


@pytest.mark.usefixtures("storage_kind")
def test_storage_sweep_command(app, app_context):
    from auditflow.storage.transactional import file_store

    _, old = file_store().save(io.BytesIO(b"left by a crash"))
    os.utime(old, (1_000, 1_000))
    result = app.test_cli_runner().invoke(args=["storage", "sweep", "--hours", "1"])
    assert result.exit_code == 0, result.output
    assert "1개" in result.output
    assert not old.exists()


@pytest.mark.usefixtures("storage_kind")
def test_storage_sweep_removes_old_stored_files_no_row_names_only_when_asked(app, app_context,
                                                                             make):
    from auditflow.extensions import db
    from auditflow.services import evidence as evidence_ops
    from auditflow.storage.transactional import file_store

    store = file_store()
    team = make.team("AI동행팀")
    recommendation = make.recommendation(lead=team, state="in_progress")
    worker = make.user("department", team=team)
    db.session.commit()
    kept = evidence_ops.upload(recommendation, worker, io.BytesIO(make_pdf()), "a.pdf").storage_key
    db.session.commit()
    # What a crash between storing and committing leaves: a stored file no row names.
    orphan, temp = store.save(io.BytesIO(b"orphan"))
    store.commit(temp, orphan.key)
    fresh, temp = store.save(io.BytesIO(b"being committed right now"))
    store.commit(temp, fresh.key)
    db.session.remove()

    cli = app.test_cli_runner()
    plain = cli.invoke(args=["storage", "sweep", "--hours", "1"])
    assert plain.exit_code == 0 and store.exists(orphan.key)
    later = time.time() + 2 * 3600
    with unittest.mock.patch("auditflow.services.stored_files.time.time", return_value=later):
        # The fresh one too is two hours old now; only the rows decide.
        result = cli.invoke(args=["storage", "sweep", "--hours", "1", "--orphans"])
    assert result.exit_code == 0, result.output
    assert "연결되지 않은 저장 파일 2개" in result.output
    assert not store.exists(orphan.key) and not store.exists(fresh.key)
    assert store.exists(kept)
    # Younger than the age given: kept, whatever the rows say.
    young, temp = store.save(io.BytesIO(b"young"))
    store.commit(temp, young.key)
    again = cli.invoke(args=["storage", "sweep", "--hours", "1", "--orphans"])
    assert "연결되지 않은 저장 파일 0개" in again.output and store.exists(young.key)


def test_an_unreachable_object_store_is_an_os_error_that_keeps_the_temp_file(tmp_path):
    from auditflow.storage import StorageUnavailable

    store = S3Store("bucket", "p", tmp_path, endpoint_url="http://127.0.0.1:1",
                    access_key_id="x", secret_access_key="y", region="us-east-1")
    stored, temp = store.save(io.BytesIO(b"x"))
    with pytest.raises(StorageUnavailable) as info:
        store.commit(temp, stored.key)
    assert isinstance(info.value, OSError)  # what the transaction's undo copes with
    assert temp.exists()  # the undo discards it
    store.discard(temp)
    with pytest.raises(StorageUnavailable):
        store.remove(stored.key)


def test_object_store_is_chosen_by_the_storage_url(tmp_path):
    from auditflow.config import ConfigError, finalise
    from auditflow.storage.transactional import make_store

    config = {"STORAGE_DIR": str(tmp_path), "STORAGE_URL": "s3://bucket/a/b",
              "S3_ENDPOINT_URL": "http://127.0.0.1:9", "S3_REGION": "us-east-1"}
    made = make_store(config)
    assert isinstance(made, S3Store)
    assert (made.bucket, made.prefix, made.tmp_dir) == ("bucket", "a/b", (tmp_path / "tmp").resolve())
    assert isinstance(make_store({"STORAGE_DIR": str(tmp_path)}), LocalFolderStore)
    with pytest.raises(ConfigError, match="s3://bucket/prefix"):
        finalise({"AUDITFLOW_ENV": "testing", "STORAGE_URL": "/srv/files"}, None)
