"""Checking that nothing was changed behind the application's back.

``verify()`` walks every hash chain (``models.chain``: history, issued editions and files, the
access log) from its start to its head and every stored file (evidence and issued) against
its SHA-256, and says what it found: counts, or each chain's first break and each file that
is wrong, in Korean, naming the row (table, id, position) and what happened to it:

- ``edited``: the row's columns no longer give its hash, or the next row no longer follows
  from its hash (it was changed and its hash rewritten);
- ``deleted``: positions are missing (in the middle, at the end against the head, or rows
  seen by an earlier verification are gone);
- ``inserted``: a row without a place in the chain (no hash: written by plain SQL, e.g. a
  back-dated state change), a second row at one place, a row past the recorded head;
- ``bytes_changed`` / ``file_missing``: a stored file whose bytes no longer give their hash.

Each run is kept (``IntegrityCheck``) with the heads it saw; the next run checks that those
rows are still there as they were, so even an owner who rewrites a whole chain is seen.

What a chain cannot tell: a row appended at the end by someone who can INSERT, knows the
encoding and moves the head as the application would. The split PostgreSQL role keeps the
application's own credentials from the rest (UPDATE, DELETE, TRUNCATE, triggers); the heads
that each verification keeps, and shows on the admin page, are what to copy elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, select, text

from auditflow.errors import DomainError
from auditflow.extensions import Model, db
from auditflow.models import Chained, ChainHead, Evidence, IntegrityCheck, IssuedReportFile, utcnow
from auditflow.models.chain import GENESIS, link
from auditflow.storage.transactional import file_store

WHAT = {
    "edited": "수정됨",
    "deleted": "삭제됨",
    "inserted": "순서 밖 삽입",
    "bytes_changed": "파일 내용 변경",
    "file_missing": "파일 없음",
}


@dataclass(frozen=True)
class Problem:
    what: str  # a key of WHAT
    where: str  # "history id 12 (순번 12)"
    detail: str  # Korean

    def __str__(self) -> str:
        return f"[{self.what}] {self.where}: {self.detail}"


@dataclass
class Verification:
    counts: dict[str, int] = field(default_factory=dict)
    heads: dict[str, list[Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def chained_models() -> list[type[Chained]]:
    """Every chained model, in table order."""
    found: list[type[Chained]] = [mapper.class_ for mapper in Model.registry.mappers
                                  if issubclass(mapper.class_, Chained)]
    return sorted(found, key=lambda model: str(model.__tablename__))  # type: ignore[attr-defined]


def last_check() -> IntegrityCheck | None:
    return db.session.scalars(select(IntegrityCheck).order_by(IntegrityCheck.id.desc())).first()


def verify(*, record: bool = True) -> Verification:
    """Walk every chain and file; keep the run (flushes) when ``record``."""
    result = Verification()
    previous = last_check()
    seen: dict[str, list[Any]] = json.loads(previous.heads) if previous is not None else {}
    for model in chained_models():
        walk(model, result, seen.get(model.__tablename__))  # type: ignore[attr-defined]
    _check_files(result)
    if record:
        db.session.add(IntegrityCheck(
            at=utcnow(), ok=result.ok,
            counts=json.dumps(result.counts, ensure_ascii=False, sort_keys=True),
            heads=json.dumps(_heads_to_keep(result, seen), sort_keys=True),
            problem=str(result.problems[0]) if result.problems else None))
        db.session.flush()
    return result


def _heads_to_keep(result: Verification, seen: dict[str, list[Any]]) -> dict[str, list[Any]]:
    # A broken chain keeps the heads the last good run saw, so the break stays visible.
    broken = {problem.where.split(" ", 1)[0] for problem in result.problems}
    return {name: (seen[name] if name in broken and name in seen else head)
            for name, head in result.heads.items()}


def _where(table: str, row: Any) -> str:
    return f"{table} id {row['id']} (순번 {row['chain_seq']})"


def _rows(table: Table) -> Iterator[Any]:
    query = (select(table).where(table.c.chain_seq.is_not(None))
             .order_by(table.c.chain_seq, table.c.id))
    yield from db.session.execute(query.execution_options(yield_per=1000)).mappings()


def walk(model: type[Chained], result: Verification, seen: list[Any] | None = None) -> None:
    """Walk one chain from its start to its head; its first break goes to ``result``."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    name = table.name
    head = db.session.get(ChainHead, name)
    length, head_hash = (head.length, head.head) if head else (0, GENESIS)
    start, start_hash = (head.start_seq, head.start_hash) if head else (0, GENESIS)
    result.heads[name] = [length, head_hash]
    label = model.chain_label or name

    unchained = db.session.execute(
        select(table.c.id).where(table.c.chain_seq.is_(None) | table.c.chain_hash.is_(None)
                                 | table.c.chain_prev.is_(None))
        .order_by(table.c.id).limit(1)).scalar()
    if unchained is not None:
        result.problems.append(Problem("inserted", f"{name} id {unchained}",
                                       f"{label}에 해시 없이 들어간 행입니다 (응용 프로그램 밖에서 삽입)."))
        return

    expected, prev, count = start + 1, start_hash, 0
    last: Any = None
    for row in _rows(table):
        problem = _link_problem(name, label, row, expected, prev, last)
        if problem is not None:
            result.problems.append(problem)
            return
        if seen is not None and row["chain_seq"] == seen[0] and row["chain_hash"] != seen[1]:
            result.problems.append(Problem(
                "edited", _where(name, row),
                f"{label}이(가) 지난 검증 이후 다시 계산되었습니다 (지난 검증 때의 해시와 다름)."))
            return
        expected, prev, last = row["chain_seq"] + 1, row["chain_hash"], row
        count += 1
    result.counts[name] = count
    if length != expected - 1:
        if length > expected - 1:
            result.problems.append(Problem(
                "deleted", f"{name} 순번 {expected}–{length}",
                f"{label}의 끝에서 {length - expected + 1}개 행이 삭제되었습니다."))
        else:
            result.problems.append(Problem(
                "inserted", _where(name, last),
                f"{label}의 기록된 끝(순번 {length}) 뒤에 행이 있습니다."))
        return
    if prev != head_hash:
        result.problems.append(Problem(
            "edited", _where(name, last) if last is not None else name,
            f"{label}의 마지막 행이 기록된 끝의 해시와 다릅니다."))
        return
    if seen is not None and expected - 1 < seen[0]:
        result.problems.append(Problem(
            "deleted", f"{name} 순번 {expected}–{seen[0]}",
            f"지난 검증 때 있던 {label} 행이 삭제되었습니다."))


def _link_problem(name: str, label: str, row: Any, expected: int,
                  prev: str, last: Any) -> Problem | None:
    seq = row["chain_seq"]
    if seq < expected:
        return Problem("inserted", _where(name, row),
                       f"{label}의 순번 {seq}에 행이 둘 있습니다 (끼워 넣은 행).")
    if seq > expected:
        before = f" (id {last['id']} 다음)" if last is not None else ""
        span = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
        return Problem("deleted", f"{name} 순번 {span}{before}",
                       f"{label}의 순번 {span} 행이 삭제되었습니다.")
    if row["chain_prev"] != prev:
        if last is None:
            return Problem("edited", _where(name, row),
                           f"{label}의 첫 행이 사슬의 시작과 이어지지 않습니다.")
        return Problem("edited", _where(name, last),
                       f"{label} 행이 바뀌고 해시가 다시 쓰였습니다 (다음 행과 이어지지 않음).")
    values = {key: value for key, value in row.items()}
    if link(prev, seq, values) != row["chain_hash"]:
        return Problem("edited", _where(name, row),
                       f"{label} 행의 내용이 기록된 해시와 다릅니다 (수정됨).")
    return None


def _check_files(result: Verification) -> None:
    store = file_store()
    checked = 0
    for table, key, rows in (
        ("evidence", "evidence files", db.session.execute(
            select(Evidence.id, Evidence.storage_key, Evidence.sha256).order_by(Evidence.id))),
        ("issued_report_file", "issued files", db.session.execute(
            select(IssuedReportFile.id, IssuedReportFile.storage_key, IssuedReportFile.sha256)
            .order_by(IssuedReportFile.id))),
    ):
        checked = 0
        for row_id, storage_key, sha256 in rows:
            where = f"{table} id {row_id}"
            try:
                kept = store.sha256(storage_key)
            except FileNotFoundError:
                kept = None
            if kept is None:
                result.problems.append(Problem("file_missing", where,
                                               f"저장된 파일({storage_key})이 없습니다."))
            elif kept != sha256:
                result.problems.append(Problem("bytes_changed", where,
                                               f"저장된 파일({storage_key})의 내용이 기록된 "
                                               "SHA-256과 다릅니다."))
            checked += 1
        result.counts[key] = checked


def app_role_grants(role: str) -> list[str]:
    """PostgreSQL statements that let ``role`` run the application and no more: SELECT and
    INSERT on the chained (append-only) tables, the usual rights on every other table. The
    role owns nothing, so it cannot TRUNCATE, ALTER (DISABLE TRIGGER, DROP TRIGGER) or switch
    ``session_replication_role``; run them as the tables' owner after every upgrade."""
    if not role.replace("_", "").isalnum():
        raise ValueError(f"not a plain role name: {role!r}")
    quoted = f'"{role}"'
    protected = {model.__tablename__ for model in chained_models()}  # type: ignore[attr-defined]
    statements = [
        f"GRANT CONNECT ON DATABASE {_current_database()} TO {quoted}",
        f"GRANT USAGE ON SCHEMA {_current_schema()} TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_current_schema()} TO {quoted}",
    ]
    for table in sorted(db.metadata.tables):
        statements.append(f'REVOKE ALL ON "{table}" FROM {quoted}')
        rights = "SELECT, INSERT" if table in protected else "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f'GRANT {rights} ON "{table}" TO {quoted}')
    if db.session.scalar(select(func.to_regclass("alembic_version"))) is not None:
        statements.append(f"GRANT SELECT ON alembic_version TO {quoted}")
    return statements


def _current_database() -> str:
    return '"' + str(db.session.scalar(select(func.current_database()))) + '"'


def _current_schema() -> str:
    return '"' + str(db.session.scalar(select(func.current_schema()))) + '"'


def grant_app_role(role: str) -> list[str]:
    """Run ``app_role_grants`` (PostgreSQL only) as the tables' owner; the statements run."""
    owner = db.session.scalar(text(
        "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename = 'history'"))
    if owner != db.session.scalar(select(func.current_user())):
        raise DomainError(f"테이블 소유자({owner})로 접속해 실행하세요. 권한을 줄 수 있는 것은 "
                          "소유자뿐입니다.", code="not_table_owner")
    statements = app_role_grants(role)
    for statement in statements:
        db.session.execute(text(statement))
    return statements
