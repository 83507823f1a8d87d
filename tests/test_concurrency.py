"""Two people acting on the same item at once: exactly one wins, the other gets the conflict."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import History, Recommendation, User
from auditflow.services import recommendations as ops
from auditflow.workflow import ConflictError


@pytest.mark.parametrize(
    "triggers",
    [("approve", "approve"), ("approve", "return_for_rework"), ("decline", "return_for_rework")],
    ids=lambda pair: "+".join(pair),
)
def test_one_wins_and_the_other_gets_the_conflict(app, make, triggers):
    recommendation = make.recommendation(state="reviewing")
    auditors = [make.user("audit"), make.user("audit")]
    db.session.commit()
    item_id, user_ids = recommendation.id, [user.id for user in auditors]
    version_before = recommendation.version
    history_before = db.session.scalar(
        select(func.count()).select_from(History).where(History.recommendation_id == item_id)
    )
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def act(trigger: str, user_id: int) -> None:
        with app.app_context():
            try:
                item = db.session.get(Recommendation, item_id)
                user = db.session.get(User, user_id)
                assert item.state == "reviewing"
                barrier.wait()
                ops.fire(item, trigger, user, reason="동시에 처리", confirmed=True)
                db.session.commit()
                outcomes.append("ok")
            except ConflictError as conflict:
                db.session.rollback()
                outcomes.append(conflict.code)
            except Exception as error:  # anything else is a failure of the test
                db.session.rollback()
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(trigger, user_id))
               for trigger, user_id in zip(triggers, user_ids, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["conflict", "ok"]
    db.session.expire_all()
    history_after = db.session.scalar(
        select(func.count()).select_from(History).where(History.recommendation_id == item_id)
    )
    assert history_after == history_before + 1
    item = db.session.get(Recommendation, item_id)
    last = db.session.scalars(
        select(History).where(History.recommendation_id == item_id).order_by(History.id.desc())
    ).first()
    assert item.state == last.to_state
    assert item.version == version_before + 1


def test_a_stale_version_from_a_form_is_a_conflict(make):
    recommendation = make.recommendation(state="reviewing")
    auditor = make.user("audit")
    stale = recommendation.version - 1
    with pytest.raises(ConflictError) as refused:
        ops.fire(recommendation, "approve", auditor, reason="확인", expected_version=stale)
    assert refused.value.code == "conflict"
    assert "다른 사용자가 먼저 변경했습니다" in refused.value.message
    assert recommendation.state == "reviewing"
