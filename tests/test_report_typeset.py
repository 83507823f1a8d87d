"""Setting the report's cell text in lines (reports/typeset.py): what the HWPX writer stores."""

from __future__ import annotations

import unicodedata

import pytest

from auditflow.reports import typeset
from auditflow.reports.page import PAGE, pt_hwpunit

SIZE = pt_hwpunit(PAGE.sizes.body)
TEXT = ("시와 재단의 디지털 취약계층을 위한 관련 사업 비교를 통해 유사 사업을 파악하고 "
        "연계 방안을 보고 바람. AI 동행버스 활용 1:1 맞춤형 교육(2026.1.) 실시")


def width(text: str, bold: bool = False) -> int:
    return sum(typeset.advance(char, SIZE, bold) for char in text)


def lines_of(text: str, first: int, others: int) -> list[str]:
    starts = typeset.line_starts(text, SIZE, first, others)
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


@pytest.mark.parametrize("room", [8000, 15000, 30000])
def test_lines_break_between_words_and_fit_their_room(room):
    lines = lines_of(TEXT, room, room)
    assert "".join(lines) == TEXT
    assert len(lines) > 1
    for line in lines:
        assert width(line.rstrip(" ")) <= room  # the spaces at its end hang past it
        assert not line.startswith(" ")
    for line, following in zip(lines, lines[1:], strict=False):
        assert line.endswith(" ")  # broken after a space, never inside a word
        assert width(line + following.split(" ")[0]) > room  # the next word did not fit


def test_the_first_line_and_the_others_have_their_own_room():
    lines = lines_of(TEXT, 20000, 10000)
    assert width(lines[0].rstrip()) > 10000
    assert all(width(line.rstrip()) <= 10000 for line in lines[1:])


def test_leading_spaces_take_room_on_the_first_line():
    text = "     - " + "가" * 8
    assert lines_of(text, width("     - " + "가" * 8), 5000) == [text]
    assert len(lines_of(text, width("- " + "가" * 8), 5000)) > 1


def test_a_word_longer_than_a_line_is_broken_between_characters_no_closing_mark_first():
    word = "가나다라마바사아자차카타파하." * 2
    lines = lines_of(word, 5000, 5000)
    assert "".join(lines) == word and len(lines) > 2
    assert all(width(line) <= 5000 for line in lines)
    assert not any(line.startswith(".") for line in lines)


def test_an_advance_is_never_narrower_than_the_font_nor_than_a_reader_without_its_metrics():
    face = typeset.face(400)
    for char in "가나ㅇ□※ABCabc123(),.·%":
        own = face.advances[ord(char)] * SIZE / face.units_per_em
        floor = SIZE if unicodedata.east_asian_width(char) in "WFA" else SIZE / 2
        assert typeset.advance(char, SIZE) >= max(own, floor)
        assert typeset.advance(char, SIZE) % typeset.LAYOUT_UNIT == 0
    assert SIZE / 2 <= typeset.advance(" ", SIZE) < SIZE / 2 + typeset.LAYOUT_UNIT  # half an em
    assert typeset.advance("㎡", SIZE) >= SIZE or ord("㎡") in face.advances


def test_a_cell_stacks_its_paragraphs_one_pitch_apart():
    pitch = typeset.line_pitch(SIZE, 150)
    assert SIZE * 1.45 <= pitch <= SIZE * 1.55
    paragraphs = [typeset.Paragraph("□ 추진상황 : 추진완료", SIZE),
                  typeset.Paragraph(TEXT, SIZE, indent=-1500, before=283)]
    layout = typeset.lay_out_cell(paragraphs, 15000)
    first, second = layout.paragraphs
    assert len(first) == 1 and len(second) > 2
    assert second[0].vertpos == pitch + 283
    assert [line.vertpos for line in second] == [second[0].vertpos + n * pitch
                                                 for n in range(len(second))]
    assert layout.height == second[-1].vertpos + SIZE
    assert [line.flags & typeset.INDENTED for line in second] == [
        0, *([typeset.INDENTED] * (len(second) - 1))]
    assert second[1].textpos == len(lines_of(TEXT, 15000, 13500)[0])
