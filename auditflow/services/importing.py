"""Import the council's list of recommendations from a file: check everything, then write all.

The file is an XLSX (``import_readers``) or a HWPX (``import_hwpx``); both readers give the
same rows, and everything below is the same for both.

``plan`` reads the file and checks every row against the organisation and the audit,
writing nothing: each problem names its row and cell in Korean (unknown team, with the
closest name when one is near; unknown category; a number used twice; empty text; a
date that is not one). ``apply`` writes the plan's new items — registered through the
same operation as the form, so each has its history and its team is told — and only
when the plan has no problem: all or nothing, in the caller's transaction. Importing
the same file again changes nothing: an item whose number and text the audit already
has is left as it is.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.korean import particle
from auditflow.models import Audit, OrgUnit, Recommendation, User
from auditflow.permissions import Capability, role_names, roles_with
from auditflow.reports.content import NOT_WRITTEN
from auditflow.services import notifications
from auditflow.services import recommendations as ops
from auditflow.services.import_hwpx import read_hwpx
from auditflow.services.import_readers import (
    Listing,
    RawRow,
    UnreadableFile,
    as_date,
    category_of,
    read_xlsx,
)
from auditflow.storage.sniff import RejectedFile, sniff
from auditflow.vocabulary import INITIAL, Category, State

TEXT_MAX = 5000
_SPLIT = re.compile(r"[,，、;\n/]+")


class ImportRefused(DomainError):
    code = "import_invalid"
    status = 400

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(f"가져올 파일에 문제가 {len(plan.problems)}건 있어 아무것도 저장하지 않았습니다. "
                         "고친 뒤 다시 가져오세요.")
        self.plan = plan
        self.problems = plan.problems


@dataclass(frozen=True)
class Problem:
    where: str  # "요구사항 3행 D3(주관 부서)"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class PlannedItem:
    where: str
    number: int
    category: Category
    council_text: str
    lead_team: OrgUnit | None
    supporting_teams: list[OrgUnit]
    due_date: date | None
    existing: Recommendation | None = None  # the same item, already in the audit
    # From a 처리결과 report: where the item stood and what was written, as reported.
    state: State = INITIAL
    action_details: str = ""
    future_plan: str = ""
    decline_reason: str = ""
    worker: User | None = None  # a user of the lead team, who started and submitted it

    @property
    def is_new(self) -> bool:
        return self.existing is None


@dataclass
class ImportPlan:
    file_name: str
    sha256: str
    items: list[PlannedItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    reported_on: date | None = None  # a report's reference date
    lead_team: OrgUnit | None = None  # the importer's choice for rows that name no lead team

    @property
    def is_report(self) -> bool:
        """Some item comes with where it stood: the file is a 처리결과 report."""
        return any(item.state is not INITIAL for item in self.items)

    @property
    def source(self) -> str:
        """What each imported item's history says of where it came from."""
        text = f"'{self.file_name}'에서 가져옴 (SHA-256 {self.sha256[:16]}…)"
        if self.reported_on and self.is_report:
            text += f", {dates.short(self.reported_on)} 기준 보고 내용"
        return text

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.items)

    @property
    def new_items(self) -> list[PlannedItem]:
        return [item for item in self.items if item.is_new]

    @property
    def unchanged(self) -> int:
        return len(self.items) - len(self.new_items)


class _Teams:
    """The organisation's units by code and by name (spaces ignored), for matching cells."""

    def __init__(self) -> None:
        units = list(db.session.scalars(select(OrgUnit)))
        self.by_key: dict[str, OrgUnit] = {}
        for unit in units:
            self.by_key[self._key(unit.code)] = unit
            self.by_key[self._key(unit.name)] = unit
        self.names = [unit.name for unit in units if unit.is_assignable]

    @staticmethod
    def _key(text: str) -> str:
        return re.sub(r"\s+", "", text).lower()

    def find(self, name: str) -> tuple[OrgUnit | None, str]:
        unit = self.by_key.get(self._key(name))
        if unit is None:
            close = difflib.get_close_matches(name, self.names, n=1, cutoff=0.5)
            hint = f" '{close[0]}'{particle(close[0], '을/를')} 뜻하나요?" if close else ""
            return None, f"'{name}' 부서를 찾을 수 없습니다.{hint}"
        if not unit.is_assignable:
            return None, f"'{unit.name}'{particle(unit.name, '은/는')} 본부입니다. 팀 또는 TF를 적으세요."
        return unit, ""


def find_team(name: str) -> OrgUnit:
    """The team or TF the importer names (name or code, spaces ignored), or a Korean refusal."""
    unit, why = _Teams().find(name.strip())
    if unit is None:
        raise DomainError(why or f"'{name}' 부서를 찾을 수 없습니다.", code="import_team")
    return unit


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value or "").strip().rstrip(".")
    return int(text) if text.isdigit() and len(text) <= 6 else None


def _text(value: Any) -> str:
    return re.sub(r"[ \t]+\n", "\n", str(value or "")).strip()


def _outline(value: Any) -> str:
    """An outline as it was typed: the file's lines, each line's level kept. A report prints
    every line one space in (``outline.plain``); that space comes off again."""
    lines = [line.rstrip() for line in str(value or "").replace("\r\n", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and all(line.startswith(" ") for line in lines if line):
        lines = [line[1:] for line in lines]
    return "\n".join(lines)


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


READERS = {"xlsx": read_xlsx, "hwpx": read_hwpx}


def plan(audit: Audit | None, data: bytes, file_name: str, *,
         lead_team: OrgUnit | None = None) -> ImportPlan:
    """What importing ``data`` into ``audit`` (None: a new audit) would write, and every problem.

    ``lead_team``, chosen by the importer, leads every item whose row names no lead team
    (a HWPX report names none); without it such items stay unassigned, and an item
    reported as at work or done is a problem, as in an XLSX row without 주관 부서."""
    result = ImportPlan(file_name=file_name, sha256=hashlib.sha256(data).hexdigest(),
                        lead_team=lead_team)
    listing: Listing = READERS[_check_kind(data, file_name)](data)
    result.reported_on = listing.reported_on
    rows = listing.rows
    if not rows:
        raise UnreadableFile("요구사항 표(머리글) 아래에 요구사항이 한 줄도 없습니다.", code="import_empty")
    if lead_team is not None and not lead_team.is_assignable:
        raise DomainError(f"'{lead_team.name}'{particle(lead_team.name, '은/는')} 본부입니다. "
                          "주관 부서로 팀 또는 TF를 고르세요.", code="import_team")
    teams = _Teams()
    existing = {} if audit is None else {
        item.number: item for item in db.session.scalars(
            select(Recommendation).where(Recommendation.audit_id == audit.id))}
    seen: dict[int, str] = {}
    for row in rows:
        item = _check_row(row, teams, result.problems, lead_team)
        if item is None:
            continue
        if item.number in seen:
            result.problems.append(Problem(
                _cell(row, "number"), f"번호 {item.number}{particle(str(item.number), '이/가')} "
                f"{seen[item.number]}에도 있습니다. 번호는 겹칠 수 없습니다."))
            continue
        seen[item.number] = row.where
        have = existing.get(item.number)
        if have is not None:
            if not _same_text(have.council_text, item.council_text):
                result.problems.append(Problem(
                    _cell(row, "number"), f"이 감사에는 {item.number}번 요구사항이 이미 다른 내용으로 "
                    "있습니다. 번호를 바꾸거나 이미 있는 요구사항을 확인하세요."))
                continue
            item.existing = have
        result.items.append(item)
    return result


LABELS = {"number": "번호", "category": "구분", "council_text": "요구사항", "lead_team": "주관 부서",
          "supporting_teams": "협조 부서", "due_date": "처리 기한", "state": "추진상황",
          "action_details": "추진내용", "future_plan": "향후계획", "decline_reason": "미반영 사유"}


def _cell(row: RawRow, name: str) -> str:
    cell = row.cells.get(name)
    return f"{row.where} {cell}({LABELS[name]})" if cell else f"{row.where} ({LABELS[name]})"


def _check_row(row: RawRow, teams: _Teams, problems: list[Problem],
               default_lead: OrgUnit | None = None) -> PlannedItem | None:
    before = len(problems)
    values = row.values
    problems.extend(Problem(_cell(row, name), reason) for name, reason in row.problems)
    number = _number(values.get("number"))
    if number is None or number < 1:
        problems.append(Problem(_cell(row, "number"), "번호는 1 이상의 정수여야 합니다."))
    category = category_of(values.get("category"))
    if category is None:
        names = ", ".join(c.label for c in Category)
        problems.append(Problem(_cell(row, "category"),
                                f"구분 '{_text(values.get('category'))}'"
                                f"{particle(_text(values.get('category')), '을/를')} 알 수 없습니다. "
                                f"{names} 중 하나를 적으세요."
                                if _text(values.get("category")) else f"구분을 적으세요 ({names})."))
    council_text = _text(values.get("council_text"))
    if not council_text:
        problems.append(Problem(_cell(row, "council_text"), "요구사항 내용이 비어 있습니다."))
    elif len(council_text) > TEXT_MAX:
        problems.append(Problem(_cell(row, "council_text"),
                                f"요구사항 내용은 {TEXT_MAX}자 이하여야 합니다."))
    lead = None
    lead_name = _text(values.get("lead_team"))
    if lead_name:
        lead, why = teams.find(lead_name)
        if why:
            problems.append(Problem(_cell(row, "lead_team"), why))
    else:
        lead = default_lead
    supporting: list[OrgUnit] = []
    for name in (part.strip() for part in _SPLIT.split(_text(values.get("supporting_teams")))):
        if not name:
            continue
        unit, why = teams.find(name)
        if why:
            problems.append(Problem(_cell(row, "supporting_teams"), why))
        elif unit is not None and unit is not lead and unit not in supporting:
            supporting.append(unit)
    due = None
    raw_due = values.get("due_date")
    if raw_due not in (None, "") and str(raw_due).strip():
        due = as_date(raw_due)
        if due is None:
            problems.append(Problem(_cell(row, "due_date"),
                                    f"'{_text(raw_due)}'{particle(_text(raw_due), '은/는')} 날짜로 "
                                    "읽을 수 없습니다. 2026-06-30처럼 적으세요."))
    state, details, plan_text, decline, worker = _reported(row, lead, problems)
    if len(problems) > before or number is None or category is None:
        return None
    return PlannedItem(where=row.where, number=number, category=category,
                       council_text=council_text, lead_team=lead, supporting_teams=supporting,
                       due_date=due, state=state, action_details=details,
                       future_plan=plan_text, decline_reason=decline, worker=worker)


def _state(value: Any) -> State | None:
    text = re.sub(r"\s+", "", str(value or ""))
    if not text:
        return INITIAL
    for state in State:
        if text in {re.sub(r"\s+", "", state.label), re.sub(r"\s+", "", state.report_label)}:
            return state
    return None


def _reported(row: RawRow, lead: OrgUnit | None, problems: list[Problem]
              ) -> tuple[State, str, str, str, User | None]:
    """Where a reported item stood, what it says was done, and who of its team did it."""
    values = row.values
    state = _state(values.get("state"))
    if state is None:
        names = ", ".join(s.report_label for s in State)
        problems.append(Problem(_cell(row, "state"), f"추진상황 '{_text(values.get('state'))}'"
                                f"{particle(_text(values.get('state')), '을/를')} 알 수 없습니다. "
                                f"{names} 중 하나를 적으세요."))
        return INITIAL, "", "", "", None
    details = _outline(values.get("action_details"))
    if details == NOT_WRITTEN:
        details = ""
    plan_text = _outline(values.get("future_plan"))
    decline = _outline(values.get("decline_reason"))
    if state is INITIAL:
        return state, details, plan_text, decline, None
    worker = None
    if lead is None:
        problems.append(Problem(_cell(row, "lead_team"),
                                f"'{state.report_label}'인 요구사항은 주관 부서가 있어야 합니다. "
                                "파일에 적거나, 가져올 때 주관 부서를 고르세요."))
    else:
        worker = _team_worker(lead)
        if worker is None:
            problems.append(Problem(_cell(row, "lead_team"),
                                    f"'{lead.name}'에 부서 담당자가 없어 추진 과정을 기록할 수 없습니다. "
                                    "먼저 사용자를 등록하세요."))
    if state in (State.REVIEWING, State.COMPLETED, State.NOT_REFLECTED) and not details:
        problems.append(Problem(_cell(row, "action_details"),
                                f"'{state.report_label}'인 요구사항의 추진내용이 비어 있습니다."))
    if state is State.NOT_REFLECTED and not decline:
        problems.append(Problem(_cell(row, "decline_reason"),
                                "미반영인 요구사항은 미반영 사유가 있어야 합니다."))
    return state, details, plan_text, decline, worker


def _team_worker(team: OrgUnit) -> User | None:
    return db.session.scalars(
        select(User).where(User.team_id == team.id, User.active.is_(True),
                           User.role.in_(roles_with(Capability.WORK_ON_ASSIGNED_ITEMS)))
        .order_by(User.id)).first()


def _check_kind(data: bytes, file_name: str = "") -> str:
    """An XLSX or a HWPX, and a sound one (no zip bomb, no macro, nothing missing, no
    password): the evidence upload's own check. Returns which of the two it is."""
    named = {".xlsx": "엑셀(XLSX) 파일", ".hwpx": "한글(HWPX) 문서"}.get(Path(file_name).suffix.lower())
    with tempfile.NamedTemporaryFile(suffix=".upload") as handle:
        handle.write(data)
        handle.flush()
        try:
            kind = sniff(Path(handle.name))
        except RejectedFile as rejected:
            if rejected.code == "file_type_not_allowed":
                what = (f"이름은 {named}이지만 내용이 {named}{particle(named, '이/가')} 아닙니다"
                        "(손상되었거나 다른 형식입니다)."
                        if named else "이 파일은 그 어느 것도 아닙니다.")
                raise UnreadableFile(f"{WHAT_TO_SEND} {what}", code="import_wrong_type") from None
            raise UnreadableFile(rejected.message, code=rejected.code) from None
    if kind.key not in READERS:
        raise UnreadableFile(f"{kind.label} 파일은 가져올 수 없습니다. {WHAT_TO_SEND}",
                             code="import_wrong_type")
    if kind.note:  # a password-protected document: nobody can read its tables
        raise UnreadableFile(f"암호가 설정된 {kind.label} 문서는 읽을 수 없습니다. 암호를 해제한 파일을 올리세요.",
                             code="import_encrypted")
    return kind.key


WHAT_TO_SEND = "서식에 맞춘 엑셀(XLSX) 파일이나, 처리결과 보고서처럼 요구사항 표가 있는 한글(HWPX) 문서를 올리세요."


def apply(import_plan: ImportPlan, audit: Audit, actor: User) -> list[Recommendation]:
    """Write the plan's new items into ``audit``; refuse the whole plan if any row has a problem."""
    if not actor.can(Capability.MANAGE_ITEMS):
        raise DomainError(f"가져오기는 {role_names(Capability.MANAGE_ITEMS)}만 할 수 있습니다.",
                          code="forbidden", status=403)
    if import_plan.problems:
        raise ImportRefused(import_plan)
    written = []
    # A report tells of work already done: nobody is told of it again.
    telling = notifications.quiet() if import_plan.is_report else nullcontext()
    with telling:
        for item in sorted(import_plan.new_items, key=lambda planned: planned.number):
            recommendation = ops.register(
                audit, number=item.number, category=item.category,
                council_text=item.council_text, actor=actor, lead_team=item.lead_team,
                supporting_teams=item.supporting_teams, due_date=item.due_date,
                source=import_plan.source)
            _reach(recommendation, item, actor, import_plan.source)
            written.append(recommendation)
    return written


def _reach(recommendation: Recommendation, item: PlannedItem, actor: User, source: str) -> None:
    """The reported state, through the workflow's own triggers (each with its history row)."""
    if item.state is INITIAL:
        return
    assert item.worker is not None
    ops.fire(recommendation, "start", item.worker, reason=source)
    if item.action_details or item.future_plan:
        ops.edit_result(recommendation, item.worker, action_details=item.action_details,
                        future_plan=item.future_plan or None)
    if item.state is State.IN_PROGRESS:
        return
    ops.fire(recommendation, "submit", item.worker, reason=source)
    if item.state is State.COMPLETED:
        # As reported: the evidence, if any, stayed with the body that reported it.
        ops.fire(recommendation, "approve", actor, reason=source)
    elif item.state is State.NOT_REFLECTED:
        ops.fire(recommendation, "decline", actor, reason=item.decline_reason, confirmed=True)
