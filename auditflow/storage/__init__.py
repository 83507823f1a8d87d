"""Evidence file storage: content sniffing, atomic streaming storage, file names.

Database-free on purpose; see :mod:`.sniff` and :mod:`.files` for the
decisions taken. The original (Korean) file name is kept for display and
download via :func:`clean_filename`; it never becomes part of a disk path.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from .backend import Storage, StorageUnavailable
from .files import (
    CHUNK_SIZE,
    KEY_BYTES,
    FileStore,
    FileTooLarge,
    LocalFolderStore,
    StorageFull,
    StoredFile,
)
from .sniff import ALLOWED_LABEL, KINDS, FileKind, RejectedFile, name_for, sniff

__all__ = [
    "ALLOWED_LABEL",
    "CHUNK_SIZE",
    "KEY_BYTES",
    "KINDS",
    "FileKind",
    "FileStore",
    "FileTooLarge",
    "LocalFolderStore",
    "RejectedFile",
    "Storage",
    "StorageFull",
    "StorageUnavailable",
    "StoredFile",
    "clean_filename",
    "content_disposition",
    "name_for",
    "sniff",
]

FALLBACK_NAME = "이름없는파일"
MAX_NAME_LENGTH = 200
_MAX_EXT_LENGTH = 16  # a longer "extension" is just part of the name
_WS_CONTROLS = str.maketrans({c: " " for c in "\t\n\r\x0b\x0c\x85"})


def clean_filename(name: str) -> str:
    """Return a safe display/download name that keeps the original (Korean) text.

    NFC-normalises (macOS sends NFD Hangul), keeps only the last path
    component for "/" and "\\", turns tab/newline into spaces and drops other
    control/format characters (Cc, Cf — incl. bidi overrides used to spoof
    extensions — and lone surrogates), strips surrounding white space and
    leading dots, collapses white-space runs, and limits the result to 200
    characters keeping the extension. Never returns an empty string.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = name.translate(_WS_CONTROLS)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"})
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"^[\s.]+", "", name).rstrip()
    if not name:
        return FALLBACK_NAME
    if len(name) > MAX_NAME_LENGTH:
        dot = name.rfind(".")
        ext = name[dot:] if dot > 0 and len(name) - dot <= _MAX_EXT_LENGTH else ""
        name = name[: MAX_NAME_LENGTH - len(ext)].rstrip() + ext
    return name


def content_disposition(name: str) -> str:
    """``Content-Disposition`` value for downloading a file as *name* (RFC 6266/5987).

    The name is passed through :func:`clean_filename` first, so CR/LF can never
    reach the header. Old clients get an ASCII ``filename`` with every non-ASCII
    character replaced by "_"; modern browsers use ``filename*``.
    """
    name = clean_filename(name)
    fallback = "".join(ch if ord(ch) < 128 else "_" for ch in name)
    fallback = fallback.replace('"', "").replace("\\", "").strip() or "file"
    encoded = quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
