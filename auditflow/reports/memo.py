"""Answers over many items, kept while the history stands still.

Every change to an item writes its history in the same transaction (the workflow's
transitions, teams, due dates, texts, categories, a new item's registration row), and
the history is append-only and chained: the chain's head (``chain_head`` row "history",
its length and the hash of its last row) moves with every change and names one state of
every item. An answer computed over the items (the summary's counts as of a day, the
list's total) is therefore the same for as long as the head is: this module keeps such
answers in the process, keyed by the head, and computes them again once it moves.

- The head is read in the request's own transaction before the answer is computed, so an
  answer is never older than the head it is kept under (a commit in between makes it
  newer, which the next head's requests compute again anyway). Chained writers take
  turns on the head row until they commit, so its length grows in commit order.
- The hash makes the key one database's: two test databases, or a database restored
  over another, never share an answer (a hash collision aside).
- The history's highest id goes with the head: a row added around the chain (by hand, or
  by an attack ``flask integrity verify`` names) is seen too. Items changed by hand
  without their history are not: after such a repair, restart the application's
  processes (README, operations).
- Without a head (a database whose history was loaded around the chain), nothing is kept.
- Each process keeps the answers of the latest head it has seen only, ``SIZE`` at most
  (the least recently used going first): once the head moves, the answers of the old one
  are dropped, so the memory they take does not grow with the writes. A request whose
  transaction began before the latest change (an older head) computes its answers
  without keeping them. Threads of one process share them under a lock.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import History
from auditflow.models.chain import ChainHead

T = TypeVar("T")

SIZE = 256
CHAIN = "history"

_answers: OrderedDict[Hashable, Any] = OrderedDict()  # of the head below only
Head = tuple[int, str, int]  # the chain's length and last hash, the history's highest id
_head: Head | None = None
_lock = threading.Lock()


def head_columns() -> tuple[Any, Any, Any]:
    """The head's three columns as selectable expressions, for a statement that reads the
    head together with something else (``web.parts``); ``head_of`` reads them back."""
    return (select(ChainHead.length).where(ChainHead.name == CHAIN).scalar_subquery(),
            select(ChainHead.head).where(ChainHead.name == CHAIN).scalar_subquery(),
            select(func.max(History.id)).scalar_subquery())


def head_of(length: Any, chain_hash: Any, highest: Any) -> Head | None:
    return None if length is None else (int(length), str(chain_hash), int(highest or 0))


@functools.cache
def _head_statement() -> Any:
    return select(*head_columns())  # asked on most requests: built once


def history_head() -> Head | None:
    """The history chain's length and last hash, and the history's highest id, as this
    transaction sees them (one statement; the id also moves for a row added around the
    chain, which ``flask integrity verify`` names)."""
    return head_of(*db.session.connection().execute(_head_statement()).one())


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or the answer it gave under the same ``key`` and history head."""
    return remembered_under(history_head(), key, compute)


def remembered_under(head: Head | None, key: Hashable, compute: Callable[[], T]) -> T:
    """``remembered``, with the head the caller read in a statement of its own (with
    ``head_columns`` in it; None: no head, nothing kept)."""
    global _head
    if head is None:
        return compute()
    with _lock:
        if head != _head:
            if _head is not None and head[0] < _head[0]:
                older = True  # a transaction begun before the last change: not kept
            else:
                _answers.clear()  # the head moved: what was kept can no longer be asked
                _head, older = head, False
        else:
            older = False
        if not older and key in _answers:
            _answers.move_to_end(key)
            return _answers[key]  # type: ignore[no-any-return]
    answer = compute()
    with _lock:
        if head == _head:
            _answers[key] = answer
            _answers.move_to_end(key)
            while len(_answers) > SIZE:
                _answers.popitem(last=False)
    return answer


def forget() -> None:
    """Drop every kept answer (the tests, and a restore into a running process)."""
    global _head
    with _lock:
        _answers.clear()
        _head = None
