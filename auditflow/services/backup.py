"""Backups: one archive holding a consistent copy of the database and the storage folder.

An archive is a plain tar file:

- ``db/<table>.jsonl``: every row of every table, one line each, in primary-key order, in
  the canonical encoding (``encode_row``: JSON with sorted keys, datetimes in UTC ISO 8601
  with microseconds, dates in ISO 8601). The encoding is the same on SQLite and PostgreSQL,
  so an archive of one restores into the other;
- ``files/<key[:2]>/<key>``: every stored file (evidence, issued editions, downloads);
- ``manifest.json`` (last): the format, when, the migration revision, the database it came
  from, each table's row count and the SHA-256 of its lines, each file's size and SHA-256.

The rows are read in one snapshot: on PostgreSQL one ``SERIALIZABLE READ ONLY DEFERRABLE``
transaction (which waits for a moment no running transaction can make inconsistent and then
never blocks or fails), on SQLite a copy made with SQLite's online backup API. The files are
copied after the snapshot: a stored file is moved into place before the transaction that
names it commits (``storage.transactional``), so every file a row of the snapshot names is
already there; files that came later are kept too and harm nothing.

``restore`` puts an archive into an empty database (made by ``flask db upgrade`` to the
archive's revision) and an empty storage folder, as the tables' owner: files first, then the
rows table by table in dependency order (plain INSERTs: the chains' hashes are carried as
they are, the append-only triggers stay in place and allow inserts), then the id sequences on
PostgreSQL. It then reads everything back and checks it against the manifest, and walks the
hash chains and files (``services.integrity``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from sqlalchemy import Connection, Integer, Table, create_engine, func, inspect, select, text
from sqlalchemy.pool import NullPool

from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.models import text_index
from auditflow.services import integrity
from auditflow.storage import CHUNK_SIZE
from auditflow.storage.backend import Storage, is_key
from auditflow.storage.transactional import file_store

FORMAT = 1
MANIFEST = "manifest.json"
_BATCH = 500


def _stored_path(path: str) -> bool:
    """A file's place in the archive as the folder store lays it out: ``ab/ab…`` (its key)."""
    folder, _, key = path.partition("/")
    return is_key(key) and folder == key[:2]


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str


@dataclass
class Check:
    """What checking an archive (or a restored database) against its manifest found."""

    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ─── the canonical encoding ──────────────────────────────────────────────────


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}")


def encode_row(table: Table, row: Any) -> str:
    """One row as one line (without the newline)."""
    return json.dumps({column.name: _encode(row[column.name]) for column in table.columns},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _decode(table: Table, line: str) -> dict[str, Any]:
    values: dict[str, Any] = json.loads(line)
    for column in table.columns:
        value = values.get(column.name)
        if value is None:
            continue
        kind = getattr(column.type, "impl_instance", column.type).python_type
        if kind is datetime:
            values[column.name] = datetime.fromisoformat(value)
        elif kind is date:
            values[column.name] = date.fromisoformat(value)
    return values


def tables() -> list[Table]:
    """Every table of the models, each after the tables it refers to."""
    return list(db.metadata.sorted_tables)


def _rows(connection: Connection, table: Table) -> Iterator[Any]:
    keys = list(table.primary_key.columns)
    if all(isinstance(column.type, Integer) for column in keys):
        query = select(table).order_by(*keys).execution_options(yield_per=1000)
        yield from connection.execute(query).mappings()
        return
    # Text keys sort differently on each database (collations): sort them here.
    found = list(connection.execute(select(table)).mappings())
    yield from sorted(found, key=lambda row: tuple(row[column.name] for column in keys))


def table_lines(connection: Connection, table: Table) -> Iterator[str]:
    for row in _rows(connection, table):
        yield encode_row(table, row)


def checksums(connection: Connection) -> dict[str, TableSum]:
    """Each table's row count and the SHA-256 of its lines, as the manifest has them."""
    found = {}
    for table in tables():
        digest, count = hashlib.sha256(), 0
        for line in table_lines(connection, table):
            digest.update(line.encode() + b"\n")
            count += 1
        found[table.name] = TableSum(count, digest.hexdigest())
    return found


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(found) if found is not None else None


# ─── the snapshot ────────────────────────────────────────────────────────────


@contextmanager
def snapshot() -> Iterator[Connection]:
    """A connection that sees the whole database as it was at one moment."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="auditflow-backup-") as folder:
            copy = Path(folder) / "snapshot.db"
            source = engine.raw_connection()
            try:
                target = sqlite3.connect(copy)
                try:
                    # All pages in one step: one read transaction, so one moment.
                    source.driver_connection.backup(target)  # type: ignore[union-attr]
                finally:
                    target.close()
            finally:
                source.close()
            copied = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
            try:
                with copied.connect() as connection:
                    yield connection
            finally:
                copied.dispose()
        return
    with engine.connect().execution_options(
            isolation_level="SERIALIZABLE", postgresql_readonly=True,
            postgresql_deferrable=True) as connection, connection.begin():
        yield connection


# ─── the storage folder (the one place that reads and writes its files) ──────


def stored_files(store: Storage) -> Iterator[tuple[str, str, float]]:
    """Every committed file of the store (folder or object store): its path in the archive,
    its key and when it was stored."""
    for key, stored_at in sorted(store.listing()):  # the store lists only its own keys
        yield f"{key[:2]}/{key}", key, stored_at


def _put_file(store: Storage, relative: str, stream: IO[bytes]) -> str:
    """Store the archive's file under its key; its SHA-256."""
    stored, temp = store.save(cast(BinaryIO, stream))
    store.commit(temp, relative.split("/")[1])
    return stored.sha256


class _Hashing(io.RawIOBase):
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


# ─── create ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Created:
    path: Path
    manifest: dict[str, Any]


def create(path: Path) -> Created:
    """Write the archive at ``path`` (refused if something is there). Reads only."""
    if path.exists():
        raise DomainError(f"이미 있는 파일입니다: {path}. 다른 이름을 주세요.",
                          code="archive_exists")
    if not path.parent.is_dir():
        raise DomainError(f"백업 파일을 둘 폴더가 없습니다: {path.parent}", code="folder_missing")
    partial = path.with_name(f".{path.name}.part")
    try:
        manifest = _write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Created(path, manifest)


def _write(partial: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = {"format": FORMAT, "application": "auditflow",
                                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                "dialect": db.engine.dialect.name, "tables": {}, "files": []}
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive, \
            tempfile.TemporaryDirectory(prefix="auditflow-backup-") as folder:
        with snapshot() as connection:
            manifest["revision"] = _revision(connection)
            for table in tables():
                lines = Path(folder) / f"{table.name}.jsonl"
                digest, count = hashlib.sha256(), 0
                with lines.open("wb") as out:
                    for line in table_lines(connection, table):
                        data = line.encode() + b"\n"
                        digest.update(data)
                        out.write(data)
                        count += 1
                manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
                archive.add(lines, arcname=f"db/{table.name}.jsonl")
                lines.unlink()
        store = file_store()
        for relative, key, stored_at in stored_files(store):
            try:
                size = store.size(key)
                stream = store.open(key)
            except FileNotFoundError:  # removed meanwhile (a download past its time)
                continue
            with stream:
                info = tarfile.TarInfo(f"files/{relative}")
                info.size = size
                info.mtime = int(stored_at)
                hashing = _Hashing(stream)
                archive.addfile(info, hashing)
                manifest["files"].append({"path": relative, "size": info.size,
                                          "sha256": hashing.digest.hexdigest()})
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    return manifest


# ─── verify ──────────────────────────────────────────────────────────────────


def _member_sha256(archive: tarfile.TarFile, member: tarfile.TarInfo) -> tuple[str, int, int]:
    """SHA-256, size and line count of one member."""
    stream = archive.extractfile(member)
    if stream is None:
        raise DomainError(f"보관 파일의 항목을 읽을 수 없습니다: {member.name}",
                          code="archive_invalid")
    digest, size, lines = hashlib.sha256(), 0, 0
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), size, lines


@contextmanager
def _opened(path: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, Any]]]:
    try:
        archive = tarfile.open(path, "r:")  # noqa: SIM115 — closed by the with below
    except (OSError, tarfile.TarError) as error:
        raise DomainError(f"백업 파일을 열 수 없습니다: {path} ({error})",
                          code="archive_invalid") from error
    with archive:
        try:
            stream = archive.extractfile(MANIFEST)
            assert stream is not None
            manifest = json.loads(stream.read())
        except (KeyError, AssertionError, ValueError) as error:
            raise DomainError(f"백업 파일에 목록(manifest.json)이 없거나 읽을 수 없습니다: {path}",
                              code="archive_invalid") from error
        if manifest.get("format") != FORMAT or manifest.get("application") != "auditflow":
            raise DomainError(f"auditflow 백업 형식({FORMAT})이 아닙니다: {path}",
                              code="archive_invalid")
        yield archive, manifest


def verify(path: Path) -> Check:
    """Check an archive against its own manifest, without a database."""
    with _opened(path) as (archive, manifest):
        result = Check(manifest)
        members = {member.name: member for member in archive.getmembers()}
        expected = {MANIFEST}
        for name, table in sorted(manifest["tables"].items()):
            member_name = f"db/{name}.jsonl"
            expected.add(member_name)
            member = members.get(member_name)
            if member is None:
                result.problems.append(f"테이블 {name}: 행 파일이 없습니다")
                continue
            sha256, _size, lines = _member_sha256(archive, member)
            if lines != table["rows"]:
                result.problems.append(f"테이블 {name}: 행 수가 목록({table['rows']})과 다릅니다 "
                                       f"({lines})")
            elif sha256 != table["sha256"]:
                result.problems.append(f"테이블 {name}: 행의 SHA-256이 목록과 다릅니다")
        for entry in manifest["files"]:
            member_name = f"files/{entry['path']}"
            expected.add(member_name)
            member = members.get(member_name)
            if member is None or not _stored_path(entry["path"]):
                result.problems.append(f"파일 {entry['path']}: 보관 파일에 없습니다")
                continue
            sha256, size, _lines = _member_sha256(archive, member)
            if size != entry["size"] or sha256 != entry["sha256"]:
                result.problems.append(f"파일 {entry['path']}: 내용이 목록의 SHA-256과 다릅니다")
        for extra in sorted(set(members) - expected):
            result.problems.append(f"목록에 없는 항목이 있습니다: {extra}")
    return result


# ─── restore ─────────────────────────────────────────────────────────────────


def _refuse_unless_owner() -> None:
    if db.engine.dialect.name != "postgresql":
        return
    owner = db.session.scalar(text(
        "SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename = 'history'"))
    current = db.session.scalar(select(func.current_user()))
    superuser = db.session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if owner != current and not superuser:
        raise DomainError(f"테이블 소유자({owner})로 접속해 실행하세요. 복원은 소유자만 할 수 있습니다 "
                          f"(지금 접속한 역할: {current}).", code="not_table_owner")


def _refuse_unless_empty(manifest: dict[str, Any], store: Storage) -> None:
    connection = db.session.connection()
    revision = _revision(connection)
    if revision != manifest.get("revision"):
        raise DomainError(
            f"데이터베이스의 마이그레이션 판({revision or '없음'})이 백업의 판"
            f"({manifest.get('revision') or '없음'})과 다릅니다. 빈 데이터베이스에서 "
            f"`flask db upgrade {manifest.get('revision') or ''}`를 먼저 실행하세요.",
            code="revision_mismatch")
    ours = {table.name for table in tables()}
    theirs = set(manifest["tables"])
    if ours != theirs:
        differ = ", ".join(sorted(ours ^ theirs))
        raise DomainError(f"백업의 테이블이 이 데이터베이스와 다릅니다: {differ}",
                          code="schema_mismatch")
    filled = [table.name for table in tables()
              if connection.execute(select(table).limit(1)).first() is not None]
    if filled:
        raise DomainError(f"빈 데이터베이스에만 복원할 수 있습니다. 행이 있는 테이블: "
                          f"{', '.join(filled)}", code="database_not_empty")
    if next(stored_files(store), None) is not None:
        raise DomainError("빈 저장소(저장 폴더나 객체 저장소)에만 복원할 수 있습니다.",
                          code="storage_not_empty")


@dataclass
class Restored:
    manifest: dict[str, Any]
    check: Check
    verification: integrity.Verification


def restore(path: Path) -> Restored:
    """Put the archive into the empty database and storage folder and commit; then check it.

    Refused (nothing written) when the archive does not match its manifest, the database is
    not empty or at another revision, or the connection is not the tables' owner.
    """
    checked = verify(path)
    if not checked.ok:
        raise DomainError("백업 파일이 목록과 맞지 않아 복원하지 않았습니다: "
                          + "; ".join(checked.problems), code="archive_invalid")
    store = file_store()
    _refuse_unless_owner()
    with _opened(path) as (archive, manifest):
        _refuse_unless_empty(manifest, store)
        written: list[str] = []
        try:
            for entry in manifest["files"]:
                stream = archive.extractfile(f"files/{entry['path']}")
                assert stream is not None
                with stream:
                    _put_file(store, entry["path"], stream)
                written.append(entry["path"])
            _insert_rows(archive)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            for relative in written:
                store.remove(relative.split("/")[1])
            raise
    return Restored(manifest, compare(manifest), integrity.verify(record=False))


def _insert_rows(archive: tarfile.TarFile) -> None:
    connection = db.session.connection()
    for table in tables():
        stream = archive.extractfile(f"db/{table.name}.jsonl")
        assert stream is not None
        batch: list[dict[str, Any]] = []
        with stream:
            for raw in io.TextIOWrapper(stream, encoding="utf-8"):
                batch.append(_decode(table, raw))
                if len(batch) >= _BATCH:
                    connection.execute(table.insert(), batch)
                    batch = []
        if batch:
            connection.execute(table.insert(), batch)
    if connection.dialect.name == "postgresql":
        _move_sequences(connection)
    else:
        # The full-text index follows inserts through its triggers; rebuilt to be sure.
        connection.exec_driver_sql(
            f"INSERT INTO {text_index.FTS_TABLE}({text_index.FTS_TABLE}) VALUES ('rebuild')")


def _move_sequences(connection: Connection) -> None:
    """Each id sequence after the largest id restored (the next insert gets a new id)."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        sequence = connection.execute(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                      {"table": f'"{table.name}"',
                                       "column": keys[0].name}).scalar()
        if sequence is None:
            continue
        top = connection.execute(select(func.max(keys[0]))).scalar()
        connection.execute(text("SELECT setval(:sequence, :next, false)"),
                           {"sequence": sequence, "next": (top or 0) + 1})


def compare(manifest: dict[str, Any]) -> Check:
    """The database and storage folder as they are now, against ``manifest``."""
    result = Check(manifest)
    found = checksums(db.session.connection())
    for name, expected in sorted(manifest["tables"].items()):
        have = found.get(name)
        if have is None:
            result.problems.append(f"테이블 {name}: 데이터베이스에 없습니다")
        elif have.rows != expected["rows"]:
            result.problems.append(f"테이블 {name}: 행 수 {have.rows}, 목록 {expected['rows']}")
        elif have.sha256 != expected["sha256"]:
            result.problems.append(f"테이블 {name}: 행의 SHA-256이 목록과 다릅니다")
    store = file_store()
    for entry in manifest["files"]:
        key = entry["path"].split("/")[1]
        if not store.exists(key):
            result.problems.append(f"파일 {entry['path']}: 저장소에 없습니다")
        elif store.sha256(key) != entry["sha256"]:
            result.problems.append(f"파일 {entry['path']}: 내용이 목록의 SHA-256과 다릅니다")
    return result
