"""What ``bench/locustfile.py`` reads in the pages and sends: kept apart from locust (whose
import patches the standard library for gevent) so that the tests can read them.

``forms_of`` finds a page's forms as a browser would post them; ``SAVED`` is what the page a
change is sent back to says when it was made, ``CONFLICT`` what it says when the item had
changed in between; ``png`` is the evidence file uploaded.
"""

from __future__ import annotations

import struct
import zlib
from html.parser import HTMLParser

# What the page a change is sent back to says when it was made (the views' own messages).
SAVED = {"result": "조치결과를 저장했습니다.", "comment": "의견을 남겼습니다.",
         "upload": "개를 올렸습니다", "trigger": "처리했습니다. 현재 상태"}
# A change posted on a page someone else changed since (workflow.errors.ConflictError), sent
# back to the item page with this message.
CONFLICT = "다른 사용자가 먼저 변경했습니다."


def png(token: str) -> bytes:
    """A real one-pixel PNG (the upload checks the bytes), its text chunk naming the write."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"tEXt", b"Comment\x00" + token.encode("ascii"))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


class Forms(HTMLParser):
    """The forms of a page: action -> fields (hidden inputs, text areas, check boxes, button)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._current = self.forms.setdefault(a.get("action", ""), {})
        elif self._current is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") == "hidden":
            self._current[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox":
            self._current[a["name"]] = a.get("value", "y")  # a person ticks "확인했습니다"
        elif tag == "textarea":
            self._current.setdefault(a["name"], "")
        elif tag == "button" and a.get("value"):
            self._current[a["name"]] = a["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(html: str) -> dict[str, dict[str, str]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def signed_form(html: str) -> dict[str, str]:
    """The fields of the page's first form that carries a CSRF token (a sign-in step)."""
    return next((f for f in forms_of(html).values() if "csrf_token" in f), {})
