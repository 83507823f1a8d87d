"""Korean particles that follow the word before them: "재추진을", "미반영 처리를".

A leaf with no application imports. A word ending in a digit takes the particle of
the digit as read aloud ("1이", "2가", "7로"). Where the word ends in neither (a
login, a file name), both forms are written, "을(를)", as Korean documents do.
"""

from __future__ import annotations

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # the final consonant ㄹ, which takes "로" rather than "으로"
_CLOSERS = "'\"’”)]}>」』"
# 영 일 이 삼 사 오 육 칠 팔 구: which end in a consonant, and which in ㄹ.
_DIGIT_FINAL = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                "6": True, "7": True, "8": True, "9": False}
_DIGIT_RIEUL = {"1", "7", "8"}


def particle(word: str, pair: str) -> str:
    """The particle of ``pair`` ("을/를", "은/는", "이/가", "과/와", "으로/로") that fits ``word``."""
    with_final, without_final = pair.split("/")
    last = word.rstrip().rstrip(_CLOSERS)[-1:] if word.strip() else ""
    if last in _DIGIT_FINAL:
        if pair == "으로/로" and last in _DIGIT_RIEUL:
            return without_final
        return with_final if _DIGIT_FINAL[last] else without_final
    if not last or not _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        return "(으)로" if pair == "으로/로" else f"{with_final}({without_final})"
    final = (ord(last) - _HANGUL_FIRST) % 28
    if pair == "으로/로" and final == _RIEUL:
        return without_final
    return with_final if final else without_final


def with_particle(word: str, pair: str) -> str:
    """``word`` followed by its particle: "재추진을"."""
    return f"{word}{particle(word, pair)}"
