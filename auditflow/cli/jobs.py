"""``flask --app auditflow worker`` and ``flask --app auditflow reminders run``."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from auditflow import dates, logs
from auditflow.cli.common import DATE, committed
from auditflow.extensions import db
from auditflow.jobs import deliver, deliver_inline, jobs
from auditflow.models import EmailMessage
from auditflow.services import reminders
from auditflow.services.mail import SendFailed


@click.command("worker")
@click.option("--workers", type=click.IntRange(min=1, max=32), default=2, show_default=True,
              help="동시에 일을 처리할 작업자 수")
@click.option("--no-periodic", is_flag=True, help="매일 알림과 재발송 점검을 하지 않습니다")
@with_appcontext
def worker_command(workers: int, no_periodic: bool) -> None:
    """백그라운드 작업(메일 발송, 매일 알림, 보고서 발행과 큰 파일 만들기)을 처리합니다. Ctrl-C로 멈춥니다."""
    logs.configure_for(current_app.config)  # one JSON line per job in production
    queue = jobs()
    where = current_app.config.get("QUEUE_URL") or current_app.config["QUEUE_PATH"]
    click.echo(f"작업 대기열: {where} · 작업자 {workers}명 · 매일 알림 "
               f"{current_app.config['REMINDER_HOUR']}시 ({current_app.config['TIMEZONE']})")
    consumer = queue.huey.create_consumer(workers=workers, periodic=not no_periodic,
                                          worker_type="thread")
    consumer.run()


@click.group("reminders")
def reminders_group() -> None:
    """처리 기한 알림."""


@reminders_group.command("run")
@click.option("--today", "today", type=DATE, help="이 날짜의 알림을 보냅니다 (기본: 오늘)")
@with_appcontext
def reminders_run(today: date | None) -> None:
    """오늘(또는 --today)의 기한 알림을 사람마다 한 통씩 만들고, 메일을 보낸 뒤 끝납니다.

    같은 날로 다시 실행하면 새로 보내는 것이 없습니다.
    """
    day = today or dates.today()
    deliver_inline(db.session())
    with committed():
        result = reminders.run(day)
        ids = [n.id for n in result.digests]
    messages = list(db.session.scalars(
        db.select(EmailMessage.id).where(EmailMessage.notification_id.in_(ids)))) if ids else []
    outcomes = [_deliver_now(message_id) for message_id in messages]
    sent = outcomes.count("sent")
    click.echo(f"{dates.short(day)} 기한 알림: {len(result.digests)}명에게 새로 알림, "
               f"메일 {sent}통 발송" + (f" (이미 알린 {result.skipped}명 제외)" if result.skipped else ""))
    if sent != len(messages):
        click.echo(f"메일 {len(messages) - sent}통은 보내지 못해 나중에 다시 보냅니다 "
                   "(작업자가 재시도합니다).", err=True)


def _deliver_now(message_id: int) -> str:
    try:
        return deliver(message_id)
    except SendFailed:  # recorded, with its next try: the worker's sweep sends it then
        return "retry"
