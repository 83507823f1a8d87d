"""What every command shares: the refusal line, the date option, one transaction."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, NoReturn

import click

from auditflow.errors import DomainError
from auditflow.extensions import db


def fail(error: DomainError, details: list[str] | None = None) -> NoReturn:
    """Print "오류 [code]: 메시지" (and the details) on stderr and exit with status 1."""
    click.echo(f"오류 [{error.code}]: {error.message}", err=True)
    for line in details or []:
        click.echo(f"  - {line}", err=True)
    sys.exit(1)


@contextmanager
def committed() -> Iterator[None]:
    """The command's one transaction: committed at the end, rolled back on any refusal.

    A ``DomainError`` becomes the refusal line (with the further problems it
    carries, if any) and exit status 1.
    """
    try:
        yield
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        fail(error, details_of(error))
    except BaseException:
        db.session.rollback()
        raise


def details_of(error: DomainError) -> list[str]:
    """The lines under the refusal: each seed problem, or the account refusals after the first."""
    problems = getattr(error, "problems", None)
    if problems:
        return [str(problem) for problem in problems]
    return [f"[{more.code}] {more.message}" for more in getattr(error, "errors", [])[1:]]


class _Date(click.ParamType[date]):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"날짜는 YYYY-MM-DD 형식이어야 합니다: {value!r}", param, ctx)


DATE = _Date()
