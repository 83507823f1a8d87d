"""Every byte of a file whose first bytes passed: nothing of another kind hidden inside.

:mod:`.sniff` decides a file's kind from its first bytes and its structure;
this module reads the rest, streaming, for what would make the file something
else as well:

* :class:`Scanner` looks through a stream for the marks of another kind of
  file: a Windows (PE) or Linux (ELF) executable, an HTML document, a ZIP
  central directory. A PDF or an image carrying one of them is valid as two
  kinds at once (a polyglot) and is refused.
* :func:`inspect_entries` reads every entry of a ZIP-based document (HWPX,
  DOCX, XLSX, PPTX) through :mod:`zipfile`, in chunks, and counts the bytes
  that really come out. The sizes the archive declares are never trusted: the
  decompressor runs until its stream ends, the count stops at the cap, and an
  entry that expands to another size than it declared is refused. Entries
  that are executables or archives (by their name or their first bytes), and
  executables anywhere inside an entry, are refused too.

Problems are raised as :class:`Finding` (a stable code and an English detail);
:mod:`.sniff` turns them into the Korean refusal.
"""

from __future__ import annotations

import copy
import re
import struct
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

__all__ = ["CHUNK", "Finding", "Scanner", "inspect_entries", "scan_file"]

CHUNK = 256 * 1024
# A PE header sits at most this far after its "MZ" (e_lfanew; linkers put it within 0x200).
_MAX_PE_OFFSET = 1024
_KEEP = _MAX_PE_OFFSET + 8  # bytes kept between chunks so no mark is cut in two
_UNBOUNDED = 1 << 62

_ELF = re.compile(rb"\x7fELF[\x01\x02][\x01\x02]\x01")
# The DOS header every Windows linker writes; rare enough to stand for an executable by itself.
_DOS_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg)[\s>/]", re.IGNORECASE)
# End of central directory on disk 0 with all entries on it: what every ZIP reader looks for.
_EOCD = re.compile(rb"PK\x05\x06\x00\x00\x00\x00(..)\1", re.DOTALL)

# First bytes of archives and executables, for entries of a ZIP-based document.
_ENTRY_MAGICS: tuple[tuple[bytes, int, str], ...] = (
    (b"PK\x03\x04", 0, "archive"),
    (b"PK\x05\x06", 0, "archive"),
    (b"PK\x07\x08", 0, "archive"),
    (b"Rar!\x1a\x07", 0, "archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "archive"),
    (b"\x1f\x8b", 0, "archive"),
    (b"BZh", 0, "archive"),
    (b"\xfd7zXZ\x00", 0, "archive"),
    (b"MSCF", 0, "archive"),
    (b"ustar", 257, "archive"),
    (b"MZ", 0, "executable"),
    (b"\x7fELF", 0, "executable"),
    (b"\xca\xfe\xba\xbe", 0, "executable"),
    (b"\xfe\xed\xfa\xce", 0, "executable"),
    (b"\xfe\xed\xfa\xcf", 0, "executable"),
    (b"\xce\xfa\xed\xfe", 0, "executable"),
    (b"\xcf\xfa\xed\xfe", 0, "executable"),
    (b"#!", 0, "executable"),
)
_ARCHIVE_NAMES = frozenset((
    ".zip", ".rar", ".7z", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".cab", ".jar", ".war", ".apk",
    ".iso", ".img", ".hwpx", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp",
))
# Not ".js": 한글 keeps a document's own scripts as Scripts/headerScripts.js, which only
# 한글 runs (as Word runs macros, which the sniffer refuses in OOXML by their part).
_EXECUTABLE_NAMES = frozenset((
    ".exe", ".dll", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".sys", ".drv", ".ocx",
    ".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".vbe", ".jse", ".wsf", ".wsh", ".hta", ".lnk",
    ".reg", ".sh", ".elf", ".so", ".dylib", ".app", ".deb", ".rpm", ".appimage",
))


class Finding(Exception):
    """What was found: ``code`` (polyglot, embedded, expanded, inconsistent, method), a detail."""

    def __init__(self, code: str, what: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.what = what  # executable | html | archive | the entry's name
        self.detail = detail


class Scanner:
    """Look through a stream, chunk by chunk, for the marks of another kind of file."""

    def __init__(self, *, html: bool, zip_directory: bool) -> None:
        self._html = html
        self._zip = zip_directory
        self._buffer = b""
        self._offset = 0  # of the buffer's first byte in the stream

    def feed(self, chunk: bytes) -> None:
        self._buffer = self._buffer + chunk if self._buffer else chunk
        if len(self._buffer) > _KEEP:
            self._scan(len(self._buffer) - _KEEP)

    def finish(self) -> None:
        self._scan(len(self._buffer))

    def _scan(self, limit: int) -> None:
        """Look at every mark starting before ``limit``; keep the rest for the next chunk."""
        buffer = self._buffer
        start = 0
        while (found := buffer.find(b"MZ", start, limit + 1)) >= 0:
            if _is_pe(buffer, found) or buffer.startswith(_DOS_HEADER, found):
                self._found("executable", found, "Windows executable (MZ/PE header)")
            start = found + 1
        self._search(_ELF, limit, "executable", "ELF executable")
        if self._html:
            self._search(_HTML, limit, "html", "HTML markup")
        if self._zip:
            self._search(_EOCD, limit, "archive", "ZIP end of central directory")
        self._buffer = buffer[limit:]
        self._offset += limit

    def _search(self, pattern: re.Pattern[bytes], limit: int, what: str, detail: str) -> None:
        match = pattern.search(self._buffer)
        if match is not None and match.start() < limit:
            self._found(what, match.start(), detail)

    def _found(self, what: str, at: int, detail: str) -> None:
        raise Finding("polyglot", what, f"{detail} at byte {self._offset + at}")


def _is_pe(buffer: bytes, at: int) -> bool:
    if at + 0x40 > len(buffer):
        return False
    (offset,) = struct.unpack_from("<I", buffer, at + 0x3C)
    return 4 <= offset <= _MAX_PE_OFFSET and buffer.startswith(b"PE\x00\x00", at + offset)


def scan_file(handle: BinaryIO, *, html: bool = True, zip_directory: bool = True) -> None:
    """Scan an open file, from its start, for the marks of another kind."""
    handle.seek(0)
    scanner = Scanner(html=html, zip_directory=zip_directory)
    while chunk := handle.read(CHUNK):
        scanner.feed(chunk)
    scanner.finish()


def inspect_entries(archive: zipfile.ZipFile, infos: Iterable[zipfile.ZipInfo],
                    archive_size: int, budget: int) -> None:
    """Read every entry to its real end; refuse past ``budget`` bytes in total, and more."""
    total = 0
    for info in infos:
        _check_name(info.filename)
        real = 0
        scanner = Scanner(html=False, zip_directory=False)
        with _open_untrusted(archive, info, archive_size) as entry:
            try:
                while chunk := entry.read(CHUNK):
                    if real == 0:
                        _check_start(info.filename, chunk)
                    real += len(chunk)
                    total += len(chunk)
                    if total > budget:
                        raise Finding("expanded", "archive",
                                      f"more than {budget} bytes when expanded "
                                      f"(at {info.filename!r})")
                    scanner.feed(chunk)
            except zipfile.BadZipFile:  # the CRC of a size that lies cannot match
                if real > info.file_size:
                    raise _inconsistent(info, real) from None
                raise
        try:
            scanner.finish()
        except Finding as finding:
            raise Finding("embedded", info.filename, finding.detail) from None
        if real != info.file_size:
            raise _inconsistent(info, real)


def _inconsistent(info: zipfile.ZipInfo, real: int) -> Finding:
    return Finding("inconsistent", info.filename,
                   f"entry {info.filename!r} declares {info.file_size} bytes, "
                   f"expands to {real} or more")


def _open_untrusted(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                    archive_size: int) -> BinaryIO:
    """The entry's bytes up to the end of its compressed stream, whatever its sizes say.

    zipfile stops an entry at its declared ``file_size``; an entry that states
    less than it holds would pass unseen. The copy it is given declares no
    limit of its own (the caller's count stops it) and a compressed size up to
    the end of the archive (the deflate stream ends itself). A stored entry is
    what it is: its bytes are the file's own.
    """
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Finding("method", info.filename,
                      f"entry {info.filename!r}: compression method {info.compress_type}")
    probe = copy.copy(info)
    if info.compress_type == zipfile.ZIP_STORED:
        probe.file_size = info.compress_size
    else:
        probe.file_size = _UNBOUNDED
        # To the end of the archive exactly: zipfile's reader fails on a short read.
        probe.compress_size = max(info.compress_size, archive_size - _data_start(archive, info))
    return archive.open(probe)  # type: ignore[return-value]


def _data_start(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Where the entry's compressed bytes begin: after its local header (read, not assumed)."""
    handle = archive.fp
    assert handle is not None  # open for reading
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or not header.startswith(b"PK\x03\x04"):
        raise Finding("inconsistent", info.filename,
                      f"entry {info.filename!r}: no local header at {info.header_offset}")
    name_length: int
    extra_length: int
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    return int(info.header_offset) + 30 + name_length + extra_length


def _check_name(name: str) -> None:
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > name.rfind("/") else ""
    if suffix in _EXECUTABLE_NAMES:
        raise Finding("embedded", name, f"entry {name!r} is named as an executable")
    if suffix in _ARCHIVE_NAMES:
        raise Finding("embedded", name, f"entry {name!r} is named as an archive")


def _check_start(name: str, head: bytes) -> None:
    for magic, at, what in _ENTRY_MAGICS:
        if head.startswith(magic, at):
            raise Finding("embedded", name, f"entry {name!r} is an {what} ({magic!r} at {at})")
