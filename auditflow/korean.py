"""Korean particles that follow the word before them: "재추진을", "미반영 처리를".

A leaf with no application imports. Where the word does not end in a Hangul
syllable (a login, a file name, a number), both forms are written, "을(를)",
as Korean documents do.
"""

from __future__ import annotations

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # the final consonant ㄹ, which takes "로" rather than "으로"
_CLOSERS = "'\"’”)]}>」』"


def particle(word: str, pair: str) -> str:
    """The particle of ``pair`` ("을/를", "은/는", "이/가", "과/와", "으로/로") that fits ``word``."""
    with_final, without_final = pair.split("/")
    last = word.rstrip().rstrip(_CLOSERS)[-1:] if word.strip() else ""
    if not last or not _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        return f"{with_final}({without_final})"
    final = (ord(last) - _HANGUL_FIRST) % 28
    if pair == "으로/로" and final == _RIEUL:
        return without_final
    return with_final if final else without_final


def with_particle(word: str, pair: str) -> str:
    """``word`` followed by its particle: "재추진을"."""
    return f"{word}{particle(word, pair)}"
