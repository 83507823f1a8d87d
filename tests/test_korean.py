"""Particles that follow the word before them, as a Korean reader expects."""

from __future__ import annotations

import pytest

from auditflow.korean import particle, with_particle


@pytest.mark.parametrize(("word", "pair", "expected"), [
    ("재추진", "을/를", "재추진을"),
    ("미반영 처리", "을/를", "미반영 처리를"),
    ("창의경영팀", "은/는", "창의경영팀은"),
    ("경영기획본부", "은/는", "경영기획본부는"),
    ("서울", "으로/로", "서울로"),  # ㄹ takes 로
    ("AI동행팀", "으로/로", "AI동행팀으로"),
    ("동행플라자TF", "으로/로", "동행플라자TF(으)로"),  # a Latin ending: both forms
    ("'감사팀'", "이/가", "'감사팀'이"),  # a closing quote is looked through
    ("1", "이/가", "1이"), ("2", "이/가", "2가"), ("10", "은/는", "10은"),
    ("7", "으로/로", "7로"), ("3", "으로/로", "3으로"), ("9", "을/를", "9를"),
    ("new-user", "을/를", "new-user을(를)"),
])
def test_the_particle_fits_the_word(word, pair, expected):
    assert with_particle(word, pair) == expected


def test_an_empty_word_gets_both_forms():
    assert particle("", "을/를") == "을(를)"
