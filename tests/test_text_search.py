"""The list's text search goes through the full-text index and answers what the scan did."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from auditflow.extensions import db
from auditflow.models import Recommendation
from auditflow.models.text_index import FTS_TABLE, TRIGRAM_INDEXES
from auditflow.reports import item_search, text_search
from auditflow.services import recommendations as ops
from tests.auth_helpers import login
from tests.conftest import DEMO_PASSWORD

# Two-character Korean words (no trigram: the scan answers), longer ones, words inside
# longer words, Latin letters in either case, spaces, LIKE's wildcards, quotes, nothing.
TERMS = [
    "인공", "예산", "운영", "AI", "ai", "서울", "ㅇ", "완료", "방안", "재단", "TF", "tf",
    "디지털", "재단의", "서면회의", "AI 역량", "ai 역량", "TF를", "tf를", "서울AI스마트",
    "인공지능", "플랫폼", "공지능", "서울AI", "서울ai", "AI플랫폼", "에이전트", "데이터",
    "추진 완료", "완료 (", "시민AI에이전트", "행정사무감사", "마련하기 바람",
    "100%", "%", "_", "a_b", '"', "'", "''", "(", "*", "AND", "OR", "NEAR",
    "없는말입니다", "zzz", "  ",
]


def _ids(condition) -> set[int]:
    return set(db.session.scalars(select(Recommendation.id).where(condition)))


def _python_answer(term: str) -> set[int]:
    """What a substring search means, in Python (the seed's texts: Korean and ASCII)."""
    needle = term.lower()
    found = set()
    for rec in db.session.scalars(select(Recommendation)):
        texts = (rec.council_text, rec.action_details, rec.future_plan or "")
        if any(needle in (value or "").lower() for value in texts):
            found.add(rec.id)
    return found


def _seed_windows() -> list[str]:
    """Substrings of the seed's own texts, three to seven characters, from every item."""
    windows = []
    for rec in db.session.scalars(select(Recommendation).order_by(Recommendation.id)):
        for source in (rec.council_text, rec.action_details, rec.future_plan or ""):
            for size in (2, 3, 5, 7):
                if len(source) > size + 10:
                    windows.append(source[10:10 + size])
    return windows


def test_the_index_answers_exactly_the_substring_search_on_the_seed(seeded):
    terms = TERMS + _seed_windows()
    assert len(terms) > 60
    found_some = 0
    for term in terms:
        expected = _ids(text_search.substring(term))
        assert _ids(text_search.contains(term)) == expected, term
        if term.strip() and all(ch.isascii() or "가" <= ch <= "힣" or ch in "ㅇ ()" for ch in term):
            assert expected == _python_answer(term), term
        found_some += bool(expected)
    assert found_some > 40  # most terms find something, so equality says something


def test_the_list_search_is_the_index_search(seeded, app):
    from auditflow.models import User

    auditor = db.session.scalar(select(User).where(User.login == "audit"))
    for term in ("인공", "플랫폼", "없는말입니다"):
        page = item_search.search(auditor, item_search.Filters(q=term), per_page=100)
        assert {item.id for item in page.items} == _ids(text_search.substring(term)), term
    client = app.test_client()
    assert login(client, "audit", DEMO_PASSWORD).status_code == 303
    html = client.get("/recommendations?audit=&q=플랫폼").get_data(as_text=True)
    for item_id in _ids(text_search.substring("플랫폼")):
        assert f'/recommendations/{item_id}"' in html


def _plan(condition) -> str:
    query = select(Recommendation.id).where(condition)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(str(row[-1]) for row in rows)
    # The seed is small enough for a scan to win; forbid it to see what the index can do.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(connection.execute(text(f"EXPLAIN {compiled}")).scalars())


def test_a_search_of_three_characters_or_more_reads_the_index(seeded):
    plan = _plan(text_search.contains("플랫폼"))
    if db.engine.dialect.name == "sqlite":
        assert "VIRTUAL TABLE INDEX" in plan and FTS_TABLE in plan, plan
    else:
        for name in TRIGRAM_INDEXES.values():
            assert name in plan, plan
    assert "VIRTUAL TABLE" not in _plan(text_search.contains("인공"))  # two: the scan


def _fts_ids(term: str) -> set[int]:
    """The FTS5 table's own answer, without the substring test on top."""
    return set(db.session.scalars(text(
        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"),
        {"q": text_search.phrase(term)}))


def test_every_write_of_the_texts_keeps_the_index_in_step(make, backend):
    audit = make.audit()
    team = make.team()
    auditor = make.user("audit")
    rec = make.recommendation(audit=audit, lead=team, text="초거대언어모델 도입 검토", state="in_progress")
    db.session.commit()
    assert _ids(text_search.contains("언어모델")) == {rec.id}

    ops.edit_text(rec, auditor, council_text="양자컴퓨팅 연구 지원", category=rec.category_enum)
    ops.edit_result(rec, auditor, action_details="ㅇ 클라우드전환 완료", future_plan="ㅇ 반도체설계 추진")
    db.session.commit()
    assert _ids(text_search.contains("언어모델")) == set()
    for term in ("양자컴퓨팅", "클라우드전환", "반도체설계"):
        assert _ids(text_search.contains(term)) == {rec.id}, term
    ops.edit_result(rec, auditor, action_details="ㅇ 조치 완료", future_plan=None)
    db.session.commit()
    assert _ids(text_search.contains("반도체설계")) == set()
    if backend.name == "sqlite":  # the index itself, not only the test on top of it
        assert _fts_ids("언어모델") == set() and _fts_ids("클라우드") == set()
        assert _fts_ids("양자컴퓨팅") == {rec.id}


@pytest.mark.parametrize("term", ['"', '""', 'a"b', "NEAR(a b)", "x OR y", "*", "^a", "-a"])
def test_fts_syntax_in_a_term_is_text(seeded, term):
    assert _ids(text_search.contains(term)) == _ids(text_search.substring(term))


def _walk(auditor, term: str, per_page: int) -> tuple[list[list[int]], list[list[int]]]:
    """Every page of a search forward by key, then back again from the last one."""
    forward: list[list[int]] = []
    page = item_search.search(auditor, item_search.Filters(q=term), per_page=per_page)
    forward.append([item.id for item in page.items])
    while page.next_after:
        page = item_search.search(auditor, item_search.Filters(q=term), per_page=per_page,
                                  after=page.next_after)
        forward.append([item.id for item in page.items])
    backward: list[list[int]] = []
    while page.prev_before:
        page = item_search.search(auditor, item_search.Filters(q=term), per_page=per_page,
                                  before=page.prev_before)
        backward.append([item.id for item in page.items])
    return forward, backward


def test_a_common_term_is_found_at_the_head_of_the_list_with_the_same_pages(make, monkeypatch):
    audits = [make.audit(year=2023), make.audit(year=2024)]
    team = make.team()
    auditor = make.user("audit")
    for number in range(1, 31):
        for audit in audits:
            rare = "희귀한낱말 " if number in (3, 17, 29) else ""
            make.recommendation(audit=audit, lead=team, number=number,
                                text=f"{rare}사업계획을 마련하기 바람 {number}")
    db.session.commit()
    probes: list[bool] = []
    real_probe = item_search._probe

    def counted(*args):
        answer = real_probe(*args)
        probes.append(answer is not None)
        return answer

    monkeypatch.setattr(item_search, "_probe", counted)
    for term in ("마련하기", "희귀한낱말", "사업", "없는낱말입니다"):
        monkeypatch.setattr(item_search, "PROBE_ROWS", 0)  # no probe: the index answers
        expected = _walk(auditor, term, per_page=4)
        monkeypatch.setattr(item_search, "PROBE_ROWS", 10)
        probes.clear()
        assert _walk(auditor, term, per_page=4) == expected, term
        flat = [i for page in expected[0] for i in page]
        assert set(flat) == _ids(text_search.substring(term)), term
        # a term in every item fills each page from the head of it (all but the two ends,
        # which have fewer items than a page and one more); a rare one never does
        if term in ("마련하기", "사업"):
            assert probes.count(True) > 20 and probes.count(False) <= 2, (term, probes)
        else:
            assert not any(probes), (term, probes)


def test_the_pages_by_key_cross_from_one_audit_to_the_next(make):
    audits = [make.audit(year=year) for year in (2022, 2023, 2024)]
    team = make.team()
    auditor = make.user("audit")
    for audit in audits:
        for number in range(1, 8):
            make.recommendation(audit=audit, lead=team, number=number)
    db.session.commit()
    forward, backward = _walk(auditor, "", per_page=4)
    expected = [rec.id for rec in sorted(
        db.session.scalars(select(Recommendation)), key=lambda r: (-r.audit_id, r.number))]
    assert [i for page in forward for i in page] == expected
    assert all(len(page) == 4 for page in forward[:-1]) and len(forward[-1]) == 21 % 4
    assert backward == forward[-2::-1]  # back again, page by page, to the first
