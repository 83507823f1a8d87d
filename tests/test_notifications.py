"""Notifications in the app and by e-mail, through a real SMTP server and a real Huey worker.

The worker runs against the SQLite queue and, where it answers, the Redis at
127.0.0.1:6379 (it does in CI; there its absence fails the tests): each database with the
queue kind it is deployed with, SQLite with the SQLite queue and PostgreSQL with Redis, or
SQLite with both when PostgreSQL is not set (tests/conftest.py, ``QUEUE_PAIRS``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from auditflow import dates
from auditflow.extensions import db
from auditflow.jobs import deliver
from auditflow.models import EmailAttempt, EmailMessage, Notification
from auditflow.services import comments, mail, notifications
from auditflow.services import recommendations as ops
from auditflow.vocabulary import Delivery, NotificationKind
from tests.mail_helpers import SmtpServer, Worker, wait_for

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> str:
    """The queue kind, paired with the database (tests/conftest.py, ``QUEUE_PAIRS``)."""
    if request.param == "redis-queue" and not redis_answers():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but Redis does not answer at {REDIS_URL}")
        pytest.skip(f"Redis does not answer at {REDIS_URL}: start redis-server to run these")
    return str(request.param)


@pytest.fixture
def app_config(smtp: SmtpServer, queue: str) -> dict[str, object]:
    config = smtp.settings(MAIL_MAX_ATTEMPTS=4, BASE_URL="https://audit.example")
    if queue == "redis-queue":
        config |= {"QUEUE_URL": REDIS_URL, "QUEUE_NAME": f"auditflow-test-{os.getpid()}",
                   "QUEUE_READ_TIMEOUT": 0.1}
    return config


@pytest.fixture
def worker(app, smtp) -> Iterator[Worker]:
    smtp.clear()
    running = Worker(app)
    running.huey.flush()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def people(make):
    lead, helper, other = make.team("주관팀"), make.team("협조팀"), make.team("다른팀")
    people = {
        "auditor": make.user("audit", email="auditor@seoul-ai.example"),
        "lead": make.user("department", team=lead, email="lead@seoul-ai.example"),
        "helper": make.user("department", team=helper, email="helper@seoul-ai.example"),
        "other": make.user("department", team=other, email="other@seoul-ai.example"),
        "no_address": make.user("department", team=lead),
    }
    db.session.commit()
    return people, (lead, helper, other)


def kinds_of(user) -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(
        Notification.user_id == user.id).order_by(Notification.id)))


def sent_messages() -> list[EmailMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailMessage).order_by(EmailMessage.id)))


def test_an_assignment_reaches_the_assigned_teams_in_the_app_and_by_mail(
        app, make, people, smtp, worker):
    users, (lead, helper, _other) = people
    audit = make.audit()
    rec = ops.register(audit, number=1, category="suggestion", council_text="교육과정 개선 방안 마련",
                       actor=users["auditor"], lead_team=lead, supporting_teams=[helper],
                       due_date=dates.today() + timedelta(days=30))
    db.session.commit()
    wait_for(lambda: len(smtp.received) >= 2, what="the two assignment mails")

    assert kinds_of(users["lead"]) == ["assigned"]
    assert kinds_of(users["helper"]) == ["assigned"]
    assert kinds_of(users["no_address"]) == ["assigned"]  # in the app, without an address
    assert kinds_of(users["other"]) == [] and kinds_of(users["auditor"]) == []  # nor the actor
    [to_lead] = smtp.to("lead@seoul-ai.example")
    [to_helper] = smtp.to("helper@seoul-ai.example")
    assert "주관 부서로 지정되었습니다" in to_lead.subject
    assert "협조 부서로 지정되었습니다" in to_helper.subject
    assert to_lead.subject.startswith(f"[{audit.organisation} 행정사무감사]")
    assert f"https://audit.example/recommendations/{rec.id}" in to_lead.text
    assert "교육과정 개선 방안 마련" in to_lead.text and "D-30" in to_lead.text
    assert str(to_lead.message["From"]).endswith("<audit@seoul-ai.example>")
    assert len(smtp.received) == 2
    assert {m.status for m in sent_messages()} == {Delivery.SENT.value}


@pytest.mark.parametrize(("trigger", "state", "kind"), [
    ("return_for_rework", "reviewing", NotificationKind.RETURNED),
    ("approve", "reviewing", NotificationKind.APPROVED),
    ("decline", "reviewing", NotificationKind.DECLINED),
    ("reopen", "completed", NotificationKind.REOPENED),
])
def test_decisions_reach_the_items_teams_with_the_reason(app, make, people, smtp, worker,
                                                         trigger, state, kind):
    users, (lead, helper, _other) = people
    with notifications.quiet():
        rec = make.recommendation(lead=lead, supporting=[helper], state=state)
    db.session.commit()
    ops.fire(rec, trigger, users["auditor"], reason="일정표를 붙여 주세요", confirmed=True)
    db.session.commit()
    wait_for(lambda: len(smtp.received) >= 2, what="mails to both teams")
    assert kinds_of(users["lead"]) == [kind.value] and kinds_of(users["helper"]) == [kind.value]
    [to_lead] = smtp.to("lead@seoul-ai.example")
    assert "사유: 일정표를 붙여 주세요" in to_lead.text
    assert smtp.to("other@seoul-ai.example") == []


def test_a_comment_reaches_the_other_side_not_its_author(app, make, people, smtp, worker):
    users, (lead, _helper, _other) = people
    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="in_progress")
    db.session.commit()
    comments.add(rec, users["lead"], "자료를 보완하여 다시 올리겠습니다.")
    db.session.commit()
    wait_for(lambda: smtp.to("auditor@seoul-ai.example"), what="the auditor's mail")
    assert kinds_of(users["lead"]) == []
    assert kinds_of(users["no_address"]) == ["commented"]  # the same team, another person
    [to_auditor] = smtp.to("auditor@seoul-ai.example")
    assert "자료를 보완하여 다시 올리겠습니다." in to_auditor.text


def test_a_kind_switched_off_comes_only_in_the_app(app, make, people, smtp, worker):
    users, (lead, _helper, _other) = people
    notifications.set_email_preferences(
        users["lead"], [k for k in NotificationKind if k is not NotificationKind.RETURNED])
    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="reviewing")
    db.session.commit()
    ops.fire(rec, "return_for_rework", users["auditor"], reason="보완 바람")
    comments.add(rec, users["auditor"], "첨부 확인 부탁드립니다.")
    db.session.commit()
    wait_for(lambda: smtp.to("lead@seoul-ai.example"), what="the comment mail")
    assert kinds_of(users["lead"]) == ["returned", "commented"]
    assert [m.subject for m in smtp.to("lead@seoul-ai.example")] == [
        m.subject for m in sent_messages() if m.user_id == users["lead"].id]
    assert all("의견" in m.subject for m in smtp.to("lead@seoul-ai.example"))


def test_a_send_that_fails_is_tried_again_and_sent_once(app, make, people, smtp, worker):
    users, (lead, _helper, _other) = people
    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="reviewing")
    db.session.commit()
    smtp.stop()
    try:
        ops.fire(rec, "approve", users["auditor"], reason="증빙 불필요")
        db.session.commit()
        message = wait_for(lambda: next((m for m in sent_messages() if m.attempts >= 1
                                         and m.status == Delivery.PENDING.value), None),
                           what="a failed first try")
        failures = db.session.scalars(select(EmailAttempt).where(
            EmailAttempt.message_id == message.id)).all()
        assert failures and not failures[0].ok and "Connection" in failures[0].detail
    finally:
        smtp.start()
    wait_for(lambda: smtp.to("lead@seoul-ai.example"), what="the mail once the server is back")
    db.session.expire_all()
    message = db.session.get(EmailMessage, message.id)
    wait_for(lambda: db.session.get(EmailMessage, message.id, populate_existing=True).status
             == Delivery.SENT.value, what="the message marked sent")
    attempts = db.session.scalars(select(EmailAttempt).where(
        EmailAttempt.message_id == message.id).order_by(EmailAttempt.id)).all()
    assert [a.ok for a in attempts][-1] is True and not any(a.ok for a in attempts[:-1])
    assert len(smtp.to("lead@seoul-ai.example")) == 1


def test_one_claim_wins(app, make, people):
    users, (lead, _helper, _other) = people
    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="reviewing")
    db.session.commit()
    from auditflow.jobs import deliver_inline

    deliver_inline(db.session())  # nothing queued: this test sends by hand
    ops.fire(rec, "approve", users["auditor"], reason="증빙 불필요")
    db.session.commit()
    [message] = [m for m in sent_messages() if m.user_id == users["lead"].id]
    assert mail.claim(message.id) is not None
    assert mail.claim(message.id) is None  # already being sent
    db.session.rollback()


def test_the_sweep_sends_what_was_never_queued(app, make, people, smtp, worker):
    users, (lead, _helper, _other) = people
    from auditflow.jobs import deliver_inline, sweep

    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="reviewing")
    db.session.commit()
    deliver_inline(db.session())  # as if the queue had been down when this committed
    ops.fire(rec, "approve", users["auditor"], reason="증빙 불필요")
    db.session.commit()
    assert smtp.received == []
    with app.app_context():
        assert sweep() >= 1
    wait_for(lambda: smtp.to("lead@seoul-ai.example"), what="the swept mail")
    with app.app_context():
        sweep()
    wait_for(lambda: all(m.status == Delivery.SENT.value for m in sent_messages()),
             what="everything sent")
    assert len(smtp.to("lead@seoul-ai.example")) == 1  # queued twice, sent once


# ─── the daily reminders ─────────────────────────────────────────────────────


@pytest.fixture
def due_world(make):
    """On DAY: team A has items due in 7, 3 and 0 days and one overdue by 10; team B one
    overdue by 2 and one due in 5 (not a reminder day); one closed overdue item."""
    day = dates.today()
    team_a, team_b = make.team("가팀"), make.team("나팀")
    people = {
        "a": make.user("department", team=team_a, email="a@seoul-ai.example"),
        "a_manager": make.user("department", team=team_a, email="boss@seoul-ai.example",
                               manager=True),
        "b": make.user("department", team=team_b, email="b@seoul-ai.example"),
        "auditor": make.user("audit", email="auditor@seoul-ai.example"),
        "liaison": make.user("liaison", email="liaison@seoul-ai.example"),
    }
    items = {}
    with notifications.quiet():
        for name, team, offset, state in [("a7", team_a, 7, "in_progress"),
                                          ("a3", team_a, 3, "received"),
                                          ("a0", team_a, 0, "in_progress"),
                                          ("a_late", team_a, -10, "in_progress"),
                                          ("b_late", team_b, -2, "reviewing"),
                                          ("b5", team_b, 5, "in_progress"),
                                          ("closed_late", team_b, -30, "completed")]:
            rec = make.recommendation(lead=team, state=state, text=f"{name} 요구사항")
            ops.set_due_date(rec, people["auditor"], day + timedelta(days=offset),
                             reason="기한 지정")
            items[name] = rec
    db.session.commit()
    return day, people, items


def run_reminders(app, day: date):
    return app.test_cli_runner().invoke(args=["reminders", "run", "--today", day.isoformat()])


def test_one_digest_per_person_and_day_and_nothing_twice(app, due_world, smtp):
    day, people, _items = due_world
    smtp.clear()
    first = run_reminders(app, day)
    assert first.exit_code == 0, first.output
    assert "메일 4통 발송" in first.output
    for who in ("a", "a_manager", "b", "auditor"):
        assert len(smtp.to(people[who].email)) == 1, who
    assert smtp.to("liaison@seoul-ai.example") == []

    to_a = smtp.to("a@seoul-ai.example")[0].text
    assert "기한이 지난 요구사항 1건" in to_a and "a_late 요구사항" in to_a
    assert "오늘이 기한인 요구사항 1건" in to_a and "기한이 3일 남은 요구사항 1건" in to_a
    assert "기한이 7일 남은 요구사항 1건" in to_a
    assert "b_late" not in to_a and "closed_late" not in to_a
    to_b = smtp.to("b@seoul-ai.example")[0].text
    assert "b_late 요구사항" in to_b and "b5" not in to_b
    # The escalation: overdue by 7 days or more goes to the team's manager and is marked.
    to_boss = smtp.to("boss@seoul-ai.example")[0].text
    assert "관리자께 알리는 건" in to_boss and "a_late 요구사항" in to_boss
    assert "관리자께 알리는 건" not in to_a
    to_auditor = smtp.to("auditor@seoul-ai.example")[0].text
    assert "[가팀] 1건" in to_auditor and "[나팀] 1건" in to_auditor
    assert to_auditor.index("a_late") < to_auditor.index("※ 관리자 보고")

    def digests() -> int:
        return db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == NotificationKind.DIGEST.value))

    before = digests()
    second = run_reminders(app, day)
    assert second.exit_code == 0 and "0명에게 새로 알림" in second.output
    assert len(smtp.received) == 4 and digests() == before


def test_the_next_day_is_a_new_digest(app, due_world, smtp):
    day, people, _items = due_world
    smtp.clear()
    assert run_reminders(app, day).exit_code == 0
    assert run_reminders(app, day + timedelta(days=1)).exit_code == 0
    assert len(smtp.to("a@seoul-ai.example")) == 2


def test_the_digest_can_be_switched_off(app, due_world, smtp):
    day, people, _items = due_world
    notifications.set_email_preferences(people["a"], [NotificationKind.RETURNED])
    db.session.commit()
    smtp.clear()
    assert run_reminders(app, day).exit_code == 0
    assert smtp.to("a@seoul-ai.example") == []
    assert kinds_of(people["a"]) == ["digest"]  # still in the app


def test_the_daily_run_is_scheduled_at_the_configured_hour_in_seoul(app):
    from datetime import datetime

    from auditflow.jobs import jobs

    with app.app_context():
        task = jobs().daily_reminders
    # 08:00 in Seoul is 23:00 UTC of the day before.
    assert task.s().validate_datetime(datetime(2026, 12, 1, 23, 0))
    assert not task.s().validate_datetime(datetime(2026, 12, 1, 8, 0))


def test_without_an_smtp_host_notifications_stay_in_the_app(app_context, make):
    app_context.config["SMTP_HOST"] = None
    try:
        lead = make.team()
        worker = make.user("department", team=lead, email="x@seoul-ai.example")
        make.recommendation(lead=lead)
        db.session.commit()
        assert kinds_of(worker) == ["assigned"]
        assert sent_messages() == []
    finally:
        app_context.config["SMTP_HOST"] = "127.0.0.1"


def test_deliver_is_idempotent(app, make, people, smtp):
    users, (lead, _helper, _other) = people
    from auditflow.jobs import deliver_inline

    with notifications.quiet():
        rec = make.recommendation(lead=lead, state="reviewing")
    db.session.commit()
    deliver_inline(db.session())
    ops.fire(rec, "approve", users["auditor"], reason="증빙 불필요")
    db.session.commit()
    message = next(m for m in sent_messages() if m.user_id == users["lead"].id)
    smtp.clear()
    assert deliver(message.id) == "sent"
    assert deliver(message.id) == "skipped"
    assert len(smtp.to("lead@seoul-ai.example")) == 1
