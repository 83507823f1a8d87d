"""Decide what an uploaded evidence file is, from its bytes only.

The file name and the Content-Type the browser declared are never consulted
here: a renamed executable saved as ``보고서.pdf`` is rejected, and a real HWP
named ``scan.bin`` is recognised as HWP. The name is held to the content
afterwards (:func:`name_for`): the extension a file is kept under must be one
of its kind's (``FileKind.extensions``, the one table of them), so a PDF named
``invoice.exe`` or ``x.html`` is refused (``extension_mismatch``) with a
message naming what the content is; a name without an extension gets the
kind's.

Allowed kinds: PDF, HWP 5.x, HWPX, DOCX, XLSX, PPTX, PNG, JPEG.

Decisions worth knowing
-----------------------
* **Encrypted HWP (password set in 한글)** is still an HWP, so it is
  ACCEPTED. The returned :class:`FileKind` carries a Korean ``note`` telling
  the uploader that reviewers cannot open it without the password. The same
  holds for an HWPX whose ``META-INF/manifest.xml`` declares
  ``encryption-data`` (OWPML encrypts parts the ODF way). An HWP saved as a
  *distribution document* (배포용 문서) is readable but may restrict copying
  and printing; it is accepted with a milder note.
* **Structurally incomplete HWPX** (no ``Contents/header.xml`` or no
  ``Contents/section*.xml``) is REJECTED with code ``hwpx_incomplete``.
  Hancom Office reports such a package as damaged, so a reviewer could not
  read it; telling the department now, while they still have the original,
  is better than discovering it during review. The message asks them to
  re-save the document in 한글 and upload it again.
* Password-protected Word/Excel/PowerPoint files are OLE containers
  (``EncryptionInfo``/``EncryptedPackage``), so their real type cannot be
  verified; they are rejected (``file_type_not_allowed``) with a message
  asking for the unprotected file. Macro-enabled OOXML (any
  ``vbaProject.bin`` part, i.e. DOCM/XLSM/PPTM) is rejected the same way.
* Zip containers are never extracted to disk. The kind is decided from the
  central directory (plus at most 64 bytes of the HWPX ``mimetype`` entry
  and a bounded read of the HWPX manifest). Zip-bomb limits are checked
  first, partly from the end-of-central-directory record before
  :mod:`zipfile` parses the directory, so a zip declaring millions of entries
  is refused without building millions of objects.
* Unreadable zip/OLE structures give ``file_corrupt``; no exception other
  than :class:`RejectedFile` escapes :func:`sniff` for bad input.
* After the kind is known, every byte is read (:mod:`.inspection`). A file
  that is valid as two kinds at once is refused (``file_polyglot``): a PDF,
  HWP or image with an executable (PE, ELF), HTML or a ZIP central directory
  after its header. The entries of an HWPX/DOCX/XLSX/PPTX are read to their
  real end, streaming: an executable or an archive among them (by name, by
  first bytes, or an executable anywhere inside) is ``file_embedded`` (an
  embedded chart workbook too: it is a nested archive); more than
  ``max_expanded`` bytes in all (``AUDITFLOW_MAX_EXPANDED_MB``) is
  ``zip_bomb``; an entry that expands to another size than the one it
  declares is ``zip_inconsistent``. The declared sizes are checked first as
  well, as a quick refusal, but never trusted for the count.

Stable ``RejectedFile.code`` values: ``file_empty``, ``file_type_not_allowed``,
``file_corrupt``, ``zip_bomb``, ``zip_inconsistent``, ``file_polyglot``,
``file_embedded``, ``hwpx_incomplete``, ``extension_mismatch`` (and
``file_too_large`` from :mod:`auditflow.storage.files`).
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
from dataclasses import dataclass, replace

import olefile

from .inspection import Finding, inspect_entries, scan_file

__all__ = [
    "ALLOWED_LABEL",
    "DEFAULT_MAX_EXPANDED",
    "FileKind",
    "KINDS",
    "RejectedFile",
    "extension_of",
    "name_for",
    "sniff",
]

ALLOWED_LABEL = "PDF, 한글(HWP·HWPX), 워드(DOCX), 엑셀(XLSX), 파워포인트(PPTX), PNG·JPEG 이미지"

# Zip-bomb limits.
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_TOTAL_UNCOMPRESSED = 1 << 30  # 1 GiB declared in total
MAX_ZIP_RATIO = 200  # file_size / compress_size ...
RATIO_CHECK_MIN_SIZE = 10 * 1024 * 1024  # ... only for entries above 10 MB
# A central directory larger than this cannot belong to a zip within the entry
# limit unless every name is absurdly long; refusing it bounds the work
# zipfile does even when the EOCD entry count lies.
MAX_CENTRAL_DIRECTORY = 8 * 1024 * 1024

MAX_MANIFEST_READ = 1024 * 1024
# What the entries of a ZIP-based document may expand to in total, counted byte by byte.
DEFAULT_MAX_EXPANDED = 200 * 1024 * 1024

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HWP5_SIGNATURE = b"HWP Document File"
HWP3_SIGNATURE = b"HWP Document File V"  # HWP 3.x: plain file, not OLE

HWP_FLAG_COMPRESSED = 1 << 0
HWP_FLAG_ENCRYPTED = 1 << 1
HWP_FLAG_DISTRIBUTION = 1 << 2

HWPX_MIMETYPE = b"application/hwp+zip"
_HWPX_SECTION = re.compile(r"Contents/section\d+\.xml")


@dataclass(frozen=True)
class FileKind:
    key: str
    mime: str
    label: str
    extensions: tuple[str, ...]  # the names a file of this kind may have, the first preferred
    note: str | None = None


KINDS: dict[str, FileKind] = {
    k.key: k
    for k in (
        FileKind("pdf", "application/pdf", "PDF", (".pdf",)),
        FileKind("hwp", "application/x-hwp", "한글(HWP)", (".hwp",)),
        FileKind("hwpx", "application/hwp+zip", "한글(HWPX)", (".hwpx",)),
        FileKind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "워드(DOCX)",
            (".docx",),
        ),
        FileKind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "엑셀(XLSX)",
            (".xlsx",),
        ),
        FileKind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "파워포인트(PPTX)",
            (".pptx",),
        ),
        FileKind("png", "image/png", "PNG 이미지", (".png",)),
        FileKind("jpeg", "image/jpeg", "JPEG 이미지", (".jpg", ".jpeg")),
    )
}

NOTE_ENCRYPTED_HWP = (
    "암호가 설정된 한글 문서입니다. 검토자가 열 수 있도록 암호를 따로 알려 주거나 "
    "암호를 해제한 파일을 올려 주세요."
)
NOTE_DISTRIBUTION_HWP = (
    "배포용으로 저장된 한글 문서입니다. 내용은 볼 수 있지만 복사나 인쇄가 제한될 수 있습니다."
)

MSG_NOT_ALLOWED = f"허용되지 않는 파일 형식입니다. {ALLOWED_LABEL}만 올릴 수 있습니다."
MSG_EMPTY = "빈 파일입니다. 내용이 들어 있는 파일을 올려 주세요."
MSG_CORRUPT = (
    "파일이 손상되어 내용을 확인할 수 없습니다. 원래 프로그램에서 파일을 다시 저장한 뒤 "
    "올려 주세요."
)
MSG_ZIP_BOMB = (
    "압축 구조가 비정상적인 파일(압축을 풀면 지나치게 커지는 파일)이라 올릴 수 없습니다. "
    "원래 프로그램에서 문서를 다시 저장한 뒤 올려 주세요."
)
MSG_HWPX_INCOMPLETE = (
    "한글(HWPX) 문서에 꼭 있어야 할 구성 요소가 빠져 있어, 한글에서 열면 손상된 파일로 "
    "표시되는 문서입니다. 원본 문서를 한글에서 열어 다시 저장한 뒤 올려 주세요."
)
MSG_OFFICE_ENCRYPTED = (
    "암호가 설정된 오피스 문서는 형식을 확인할 수 없어 올릴 수 없습니다. 암호를 해제한 "
    f"파일을 올려 주세요. {ALLOWED_LABEL}만 올릴 수 있습니다."
)
MSG_MACRO = (
    "매크로가 들어 있는 오피스 문서(DOCM·XLSM·PPTM 등)는 올릴 수 없습니다. 매크로 없는 "
    f"형식으로 다시 저장해 올려 주세요. {ALLOWED_LABEL}만 올릴 수 있습니다."
)
MSG_HWP3 = (
    "한글 97 이전 형식(HWP 3.0)의 문서는 올릴 수 없습니다. 한글에서 최신 형식(HWP 또는 "
    "HWPX)으로 다시 저장해 올려 주세요."
)

_WHAT = {"executable": "실행 파일", "html": "웹 문서(HTML)", "archive": "압축 파일(ZIP)"}
MSG_INCONSISTENT = (
    "압축 정보에 적힌 크기와 실제 내용의 크기가 다른 파일(변조되었거나 손상된 파일)이라 "
    "올릴 수 없습니다. 원래 프로그램에서 문서를 다시 저장한 뒤 올려 주세요."
)


def _polyglot_message(kind: FileKind, what: str) -> str:
    return (
        f"{kind.label} 파일 안에 다른 형식의 내용({_WHAT.get(what, what)})이 함께 들어 있어 "
        f"올릴 수 없습니다. 원래 프로그램에서 {kind.label} 파일로 다시 저장해 올려 주세요."
    )


def _embedded_message(kind: FileKind, entry: str) -> str:
    name = "".join(ch for ch in entry.rsplit("/", 1)[-1] if ch.isprintable())[:80] or entry[:80]
    return (
        f"{kind.label} 문서 안에 실행 파일이나 압축 파일('{name}')이 들어 있어 올릴 수 "
        "없습니다. 문서에서 그 개체를 지우고 다시 저장해 올려 주세요."
    )


def _expanded_message(limit: int) -> str:
    return (
        f"압축을 풀면 {limit // (1024 * 1024)}MB가 넘는 파일이라 올릴 수 없습니다. "
        "그림 등을 줄여 다시 저장하거나 파일을 나누어 올려 주세요."
    )


def _mismatch_message(kind: FileKind, extension: str) -> str:
    allowed = "·".join(f"'{ext}'" for ext in kind.extensions)
    return (
        f"파일 내용은 {kind.label} 형식인데 파일 이름의 확장자가 '{extension}'입니다. "
        f"{kind.label} 파일은 이름이 {allowed}로 끝나야 합니다. "
        "파일 이름을 확인한 뒤 다시 올려 주세요."
    )


class RejectedFile(Exception):
    """An upload that must not be stored.

    ``code`` is a stable machine code, ``message`` a Korean sentence for the
    uploader, ``detail`` an English reason for logs (never shown to users).
    """

    code: str = "file_type_not_allowed"

    def __init__(self, code: str, message: str, detail: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail

    def __repr__(self) -> str:
        return f"RejectedFile(code={self.code!r}, detail={self.detail!r})"


def _not_allowed(detail: str, message: str = MSG_NOT_ALLOWED) -> RejectedFile:
    return RejectedFile("file_type_not_allowed", message, detail)


def _corrupt(detail: str) -> RejectedFile:
    return RejectedFile("file_corrupt", MSG_CORRUPT, detail)


def _bomb(detail: str) -> RejectedFile:
    return RejectedFile("zip_bomb", MSG_ZIP_BOMB, detail)


def sniff(path: str | os.PathLike[str], *, max_expanded: int = DEFAULT_MAX_EXPANDED) -> FileKind:
    """Return the kind of the file at *path*, or raise :class:`RejectedFile`.

    The first bytes decide the kind; then every byte is read (see
    :mod:`.inspection`): a file that is another kind as well is refused, and
    the entries of a ZIP-based document may expand to ``max_expanded`` bytes
    in all, counted as they come out.

    An ``OSError`` opening *path* itself (missing file, permissions) is the
    caller's problem and propagates; anything that goes wrong while parsing
    the content becomes ``RejectedFile("file_corrupt")``.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:
        head = fh.read(32)
    try:
        kind = _sniff(path, head, max_expanded)
        with open(path, "rb") as fh:
            # A ZIP-based document's own bytes are compressed: only an executable is looked for.
            zipped = head.startswith(ZIP_MAGIC)
            try:
                scan_file(fh, html=not zipped, zip_directory=not zipped)
            except Finding as finding:
                raise _refusal(finding, kind, max_expanded) from None
        return kind
    except RejectedFile:
        raise
    except Exception as exc:  # malformed input must never surface as a 500
        raise _corrupt(f"{type(exc).__name__}: {exc}") from exc


def _refusal(finding: Finding, kind: FileKind, max_expanded: int) -> RejectedFile:
    if finding.code == "polyglot":
        return RejectedFile("file_polyglot", _polyglot_message(kind, finding.what), finding.detail)
    if finding.code == "embedded":
        return RejectedFile("file_embedded", _embedded_message(kind, finding.what),
                            finding.detail)
    if finding.code == "expanded":
        return RejectedFile("zip_bomb", _expanded_message(max_expanded), finding.detail)
    if finding.code == "inconsistent":
        return RejectedFile("zip_inconsistent", MSG_INCONSISTENT, finding.detail)
    return _corrupt(finding.detail)


def _sniff(path: str, head: bytes, max_expanded: int) -> FileKind:
    if not head:
        raise RejectedFile("file_empty", MSG_EMPTY, "zero bytes")

    if head.startswith(PDF_MAGIC):
        return KINDS["pdf"]
    if head.startswith(PNG_MAGIC):
        return KINDS["png"]
    if head.startswith(JPEG_MAGIC):
        return KINDS["jpeg"]
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(path, max_expanded)
    if head.startswith(HWP3_SIGNATURE):
        raise _not_allowed("HWP 3.x document", MSG_HWP3)
    raise _not_allowed(f"unknown signature {head[:8].hex()}")


# -------------------------------------------------------------------- names ---

_EXTENSION = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,9})")


def extension_of(name: str) -> str | None:
    """The extension of ``name`` with its dot ('.pdf'), or None when it has none."""
    dot = name.rfind(".")
    if dot <= 0 or not _EXTENSION.fullmatch(name[dot:]):
        return None
    return name[dot:]


def name_for(name: str, kind: FileKind) -> str:
    """The name a file of ``kind`` is kept under: its extension must be one of the kind's.

    A name without an extension gets the kind's own; a name whose extension
    says another kind (a PDF named ``invoice.exe``) is refused, naming what the
    content is (code ``extension_mismatch``).
    """
    extension = extension_of(name)
    if extension is None:
        return f"{name}{kind.extensions[0]}"
    if extension.lower() in kind.extensions:
        return name
    raise RejectedFile("extension_mismatch", _mismatch_message(kind, extension),
                       f"{kind.key} content named {extension!r}")


# --------------------------------------------------------------------- OLE ---


def _sniff_ole(path: str) -> FileKind:
    try:
        ole = olefile.OleFileIO(path)
    except Exception as exc:
        raise _corrupt(f"unreadable OLE: {exc}") from exc
    try:
        if ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"):
            raise _not_allowed("password-protected OOXML (OLE wrapper)", MSG_OFFICE_ENCRYPTED)
        if not ole.exists("FileHeader"):
            raise _not_allowed("OLE file without FileHeader (not HWP)")
        declared = ole.get_size("FileHeader")
        if declared > 4096:
            raise _corrupt("HWP FileHeader stream too large")
        header = ole.openstream("FileHeader").read(256)
    finally:
        ole.close()

    if len(header) < min(declared, 256):
        # olefile tolerates truncated files and hands back short streams
        raise _corrupt(f"FileHeader stream truncated ({len(header)} of {declared} bytes)")
    if not header.startswith(HWP5_SIGNATURE):
        raise _not_allowed("OLE FileHeader without HWP signature")
    if len(header) < 40:
        raise _corrupt("HWP FileHeader too short")
    (flags,) = struct.unpack_from("<I", header, 36)
    if flags & HWP_FLAG_ENCRYPTED:
        return _with_note(KINDS["hwp"], NOTE_ENCRYPTED_HWP)
    if flags & HWP_FLAG_DISTRIBUTION:
        return _with_note(KINDS["hwp"], NOTE_DISTRIBUTION_HWP)
    return KINDS["hwp"]


def _with_note(kind: FileKind, note: str) -> FileKind:
    return replace(kind, note=note)


# --------------------------------------------------------------------- ZIP ---


def _eocd_precheck(path: str) -> None:
    """Refuse absurd zips from the end-of-central-directory record alone.

    Best effort: if the record cannot be found, zipfile will report the
    file as broken a moment later.
    """
    size = os.path.getsize(path)
    tail_len = min(size, 22 + 0xFFFF)
    with open(path, "rb") as fh:
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) - pos < 22:
            return
        (_, _, _, _, entries, cd_size, _, _) = struct.unpack_from("<4s4H2LH", tail, pos)
        if entries == 0xFFFF or cd_size == 0xFFFFFFFF:
            # Zip64: the locator sits just before the EOCD record.
            loc = pos - 20
            if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
                (z64_offset,) = struct.unpack_from("<Q", tail, loc + 8)
                if z64_offset + 56 <= size:
                    fh.seek(z64_offset)
                    rec = fh.read(56)
                    if rec[:4] == b"PK\x06\x06":
                        entries, cd_size = struct.unpack_from("<QQ", rec, 32)
    if entries > MAX_ZIP_ENTRIES:
        raise _bomb(f"{entries} entries declared (limit {MAX_ZIP_ENTRIES})")
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise _bomb(f"central directory of {cd_size} bytes")


def _check_bomb(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _bomb(f"{len(infos)} entries (limit {MAX_ZIP_ENTRIES})")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_CHECK_MIN_SIZE:
            if info.compress_size <= 0:
                raise _bomb(f"entry {info.filename!r}: {info.file_size} bytes from nothing")
            ratio = info.file_size / info.compress_size
            if ratio > MAX_ZIP_RATIO:
                raise _bomb(f"entry {info.filename!r}: compression ratio {ratio:.0f}")
    if total > MAX_ZIP_TOTAL_UNCOMPRESSED:
        raise _bomb(f"declared uncompressed total {total} bytes")


def _sniff_zip(path: str, max_expanded: int) -> FileKind:
    _eocd_precheck(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _corrupt(f"unreadable zip: {exc}") from exc
    with zf:
        infos = zf.infolist()
        _check_bomb(infos)
        kind = _zip_kind(zf, infos)
        try:
            inspect_entries(zf, infos, os.path.getsize(path), max_expanded)
        except Finding as finding:
            raise _refusal(finding, kind, max_expanded) from None
    return kind


def _zip_kind(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> FileKind:
    if not infos:
        raise _not_allowed("empty zip")
    names = {i.filename for i in infos}

    first = infos[0]
    if first.filename == "mimetype":
        with zf.open(first) as fh:
            mimetype = fh.read(64)
        if mimetype == HWPX_MIMETYPE:
            return _sniff_hwpx(zf, names)

    if "[Content_Types].xml" in names:
        if any(n.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for n in names):
            raise _not_allowed("macro-enabled OOXML (vbaProject.bin)", MSG_MACRO)
        if "word/document.xml" in names:
            return KINDS["docx"]
        if "xl/workbook.xml" in names:
            return KINDS["xlsx"]
        if "ppt/presentation.xml" in names:
            return KINDS["pptx"]
        raise _not_allowed("OPC package that is not DOCX/XLSX/PPTX")
    raise _not_allowed("zip archive of another kind")


def _sniff_hwpx(zf: zipfile.ZipFile, names: set[str]) -> FileKind:
    missing = []
    if "Contents/header.xml" not in names:
        missing.append("Contents/header.xml")
    if not any(_HWPX_SECTION.fullmatch(n) for n in names):
        missing.append("Contents/section*.xml")
    if missing:
        raise RejectedFile(
            "hwpx_incomplete", MSG_HWPX_INCOMPLETE, "HWPX lacks " + ", ".join(missing)
        )
    if "META-INF/manifest.xml" in names:
        with zf.open("META-INF/manifest.xml") as fh:
            manifest = fh.read(MAX_MANIFEST_READ)
        if b"encryption-data" in manifest:
            return _with_note(KINDS["hwpx"], NOTE_ENCRYPTED_HWP)
    return KINDS["hwpx"]
