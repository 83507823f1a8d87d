"""Load the organisation and council audits (and, on request, demo users) from ``seed/``.

The whole set is validated first; a bad value is refused with the file, the
item and the reason, and nothing is written. Loading is idempotent: what
exists (by unit code, login, audit title, recommendation number) is left
alone. States are reached by firing the workflow's triggers with the dates
the seed gives, so every item has its history.

The history names who did what: the people of ``demo_users.yaml``. Without ``demo``
only those the history needs are written, as record-keeping accounts nobody can sign
in to (no password, not active); with ``demo`` every demo user is made with a password
and can sign in (a record-keeping account an earlier plain load made gets its password).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from auditflow import dates
from auditflow.errors import DomainError
from auditflow.extensions import db
from auditflow.korean import particle
from auditflow.models import Audit, OrgUnit, Recommendation, User
from auditflow.permissions import Capability, grants, needs_team, role_names
from auditflow.services import notifications
from auditflow.services import recommendations as ops
from auditflow.services.passwords import check_rule, generate, hash_password
from auditflow.vocabulary import INITIAL, Category, Role, State, UnitKind
from auditflow.workflow import BY_TRIGGER

DEMO_MAIL_DOMAIN = "auditflow.example"


@dataclass(frozen=True)
class Problem:
    file: str
    item: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: {self.reason}"


class SeedRefused(DomainError):
    code = "seed_invalid"
    message = "시드 파일에 잘못된 값이 있어 아무것도 저장하지 않았습니다."

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems


@dataclass
class SeedResult:
    units: int = 0
    users: int = 0
    audits: int = 0
    recommendations: int = 0
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.units or self.users or self.audits or self.recommendations)


@dataclass
class SeedSet:
    organisation: dict[str, Any]
    organisation_file: str
    users: list[dict[str, Any]]
    users_file: str
    audits: list[tuple[str, dict[str, Any]]]


def read(directory: Path) -> SeedSet:
    problems: list[Problem] = []

    def load(path: Path) -> Any:
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(str(path), "파일", "파일이 없습니다"))
        except yaml.YAMLError as exc:
            problems.append(Problem(str(path), "파일", f"YAML 형식 오류: {exc}"))
        return None

    organisation_path = directory / "organisation.yaml"
    users_path = directory / "demo_users.yaml"
    organisation = load(organisation_path) or {}
    users = (load(users_path) or {}).get("users", [])
    audits = [(str(path), load(path) or {}) for path in sorted((directory / "audits").glob("*.yaml"))]
    if problems:
        raise SeedRefused(problems)
    return SeedSet(organisation, str(organisation_path), users, str(users_path), audits)


def validate(seed: SeedSet) -> list[Problem]:
    """Every problem of the seed set, each reported once."""
    codes = _unit_codes(seed)
    team_users = {user.get("team") for user in seed.users
                  if grants(user.get("role"), Capability.WORK_ON_ASSIGNED_ITEMS)}
    problems = [*_check_units(seed, codes), *_check_users(seed, codes), *_check_registrar(seed)]
    titles: set[str] = set()
    for file, data in seed.audits:
        audit = data.get("audit") or {}
        problems += _check_audit(file, audit, titles)
        numbers: set[int] = set()
        for item in data.get("recommendations") or []:
            where = f"{item.get('number')}번 요구사항"
            problems += _check_recommendation(file, where, item, numbers, codes)
            problems += _validate_timeline(file, where, item, audit.get("received_on"),
                                           audit.get("reference_date"), item.get("lead_team"),
                                           team_users)
    return problems


def _unit_codes(seed: SeedSet) -> dict[str, dict[str, Any]]:
    units = seed.organisation.get("units") or []
    return {unit["code"]: unit for unit in units if unit.get("code") and unit.get("name")}


def _check_units(seed: SeedSet, codes: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    file, seen = seed.organisation_file, set()
    kinds = {kind.value for kind in UnitKind}
    for index, unit in enumerate(seed.organisation.get("units") or [], 1):
        where = f"조직 {index}번째 ({unit.get('name', '?')})"
        code = unit.get("code")
        if not code or not unit.get("name"):
            yield Problem(file, where, "code와 name이 필요합니다")
            continue
        if code in seen:
            yield Problem(file, where, f"중복된 조직 코드 '{code}'")
        seen.add(code)
        if unit.get("kind") not in kinds:
            yield Problem(file, where, f"알 수 없는 조직 종류 '{unit.get('kind')}'")
        parent = unit.get("parent")
        if parent and parent not in codes:
            yield Problem(file, unit["name"], f"알 수 없는 상위 조직 '{parent}'")


def _check_users(seed: SeedSet, codes: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    file, logins = seed.users_file, set()
    roles = {role.value for role in Role}
    for user in seed.users:
        where = f"사용자 {user.get('login', '?')}"
        if user.get("login") in logins:
            yield Problem(file, where, "중복된 로그인 이름")
        logins.add(user.get("login"))
        role, team = user.get("role"), user.get("team")
        if role not in roles:
            yield Problem(file, where, f"알 수 없는 역할 '{role}'")
        if team and team not in codes:
            yield Problem(file, where, f"알 수 없는 부서 '{team}'")
        if needs_team(role) and not team:
            yield Problem(file, where, f"{Role(str(role)).label}에게는 부서(team)가 필요합니다")


def _check_registrar(seed: SeedSet) -> Iterator[Problem]:
    """Someone must register the audits' items and review them: once for the whole set."""
    if not any(data.get("recommendations") for _file, data in seed.audits):
        return
    for capability in (Capability.MANAGE_ITEMS, Capability.REVIEW_ITEMS):
        if not any(grants(user.get("role"), capability) for user in seed.users):
            yield Problem(seed.users_file, "사용자",
                          f"{role_names(capability)} 사용자가 한 명 이상 필요합니다")
            return


def _check_audit(file: str, audit: dict[str, Any], titles: set[str]) -> Iterator[Problem]:
    title = audit.get("title")
    if not title:
        yield Problem(file, "audit", "title이 필요합니다")
    elif title in titles:
        yield Problem(file, "audit", f"중복된 감사 '{title}'")
    else:
        titles.add(str(title))
    for key in ("received_on", "reference_date"):
        if audit.get(key) is not None and not isinstance(audit.get(key), date):
            yield Problem(file, "audit", f"{key}은(는) YYYY-MM-DD 날짜여야 합니다")


def _check_recommendation(file: str, where: str, item: dict[str, Any], numbers: set[int],
                          codes: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    number = item.get("number")
    if not isinstance(number, int) or number < 1:
        yield Problem(file, where, "번호(number)는 1 이상의 정수여야 합니다")
    elif number in numbers:
        yield Problem(file, where, f"중복된 번호 {number}")
    else:
        numbers.add(number)
    try:
        Category.from_label(str(item.get("category")))
    except ValueError:
        yield Problem(file, where, f"알 수 없는 분류 '{item.get('category')}'")
    if item.get("state") not in {state.value for state in State}:
        yield Problem(file, where, f"알 수 없는 상태 '{item.get('state')}'")
    if not (item.get("council_text") or "").strip():
        yield Problem(file, where, "요구사항 내용(council_text)이 비어 있습니다")
    for team in [item.get("lead_team"), *(item.get("supporting_teams") or [])]:
        if team is None:
            continue
        if team not in codes:
            yield Problem(file, where, f"알 수 없는 부서 '{team}'")
        elif codes[team].get("kind") == UnitKind.DIVISION:
            yield Problem(file, where, f"'{team}'{particle(str(team), '은/는')} 본부라서 지정할 수 없습니다")
    due = item.get("due_date")
    if due is not None and not isinstance(due, date):
        yield Problem(file, where, "due_date는 YYYY-MM-DD 날짜여야 합니다")


def _validate_timeline(file: str, where: str, item: dict[str, Any], received: Any,
                       reference: Any, lead: Any, team_users: set[Any]) -> list[Problem]:
    problems = []
    state = INITIAL
    previous = received if isinstance(received, date) else None
    for step in item.get("timeline") or []:
        trigger = step.get("trigger")
        spec = BY_TRIGGER.get(trigger)
        if spec is None:
            problems.append(Problem(file, where, f"알 수 없는 작업 '{trigger}'"))
            return problems
        if state not in spec.sources:
            problems.append(Problem(file, where, f"'{state.label}' 상태에서는 '{trigger}'을(를) 할 수 없습니다"))
            return problems
        if spec.team_only and not step.get("by") and lead not in team_users:
            problems.append(Problem(file, where, f"주관 부서 '{lead}'의 담당자가 없어 '{trigger}'을(를) 할 수 없습니다"))
        on = step.get("on")
        if not isinstance(on, date):
            problems.append(Problem(file, where, f"'{trigger}'의 날짜(on)가 YYYY-MM-DD 형식이 아닙니다"))
        else:
            if previous and on < previous:
                problems.append(Problem(file, where, f"'{trigger}'의 날짜 {on}가 앞 단계보다 이릅니다"))
            if isinstance(reference, date) and on > reference:
                problems.append(Problem(file, where, f"'{trigger}'의 날짜 {on}가 기준일 {reference} 이후입니다"))
            previous = on
        state = State(spec.dest)
    if item.get("state") in {s.value for s in State} and state != State(item["state"]):
        problems.append(
            Problem(file, where, f"timeline이 '{State(item['state']).label}' 상태에 이르지 않습니다 (끝: {state.label})")
        )
    return problems


def load(directory: Path, *, demo: bool = False, demo_password: str | None = None) -> SeedResult:
    """Validate everything, then write what is missing. The caller commits.

    ``demo``: make the demo users, with ``demo_password`` (else each a random one,
    returned in ``SeedResult.passwords``)."""
    seed = read(directory)
    problems = validate(seed)
    if problems:
        raise SeedRefused(problems)
    result = SeedResult()
    # The seed's events happened long ago: nobody is notified of them.
    with notifications.quiet():
        units = _load_units(seed, result)
        people = _People(seed, units, result, demo=demo, demo_password=demo_password)
        for _file, data in seed.audits:
            _load_audit(data, units, people, result)
        people.finish()
    return result


def _load_units(seed: SeedSet, result: SeedResult) -> dict[str, OrgUnit]:
    existing = {unit.code: unit for unit in db.session.scalars(db.select(OrgUnit))}
    for order, data in enumerate(seed.organisation.get("units") or [], 1):
        if data["code"] in existing:
            continue
        unit = OrgUnit(
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            parent=existing.get(data.get("parent")),
            duties="\n".join(data.get("duties") or []),
            sort_order=order,
        )
        db.session.add(unit)
        existing[unit.code] = unit
        result.units += 1
    db.session.flush()
    return existing


class _People:
    """The users of the seed: every demo user at once with ``demo``; otherwise each one
    when the history first names them, as a record-keeping account."""

    def __init__(self, seed: SeedSet, units: dict[str, OrgUnit], result: SeedResult, *,
                 demo: bool, demo_password: str | None) -> None:
        self.units, self.result, self.demo = units, result, demo
        self.entries = {data["login"]: data for data in seed.users}
        self.known: dict[str, User] = {
            user.login: user for user in db.session.scalars(db.select(User))}
        self.password = demo_password
        self.shared_hash = None
        if demo and demo_password:
            check_rule(demo_password)
            # One shared password: one hash (argon2 is slow on purpose) serves them all.
            self.shared_hash = hash_password(demo_password)
        for login in self.entries:
            user = self.known.get(login)
            if user is not None and user.password_hash is None:
                # A record-keeping account: it acts in the history while the seed loads.
                user.active = True
                if demo:
                    self._give_password(user)
        if demo:
            for login, data in self.entries.items():
                if login not in self.known:
                    self._make(data)
        db.session.flush()

    def get(self, login: str) -> User:
        return self.known.get(login) or self._make(self.entries[login])

    def first(self, role_may: Callable[[str], bool], team: OrgUnit | None = None,
              *, any_team: bool = False) -> User:
        """The first active user (then the first demo entry) whose role passes ``role_may``
        and who is on ``team`` (unless ``any_team``)."""
        for user in self.known.values():
            if user.active and role_may(user.role) and (any_team or user.team is team):
                return user
        for login, data in self.entries.items():
            if (login not in self.known and role_may(data["role"])
                    and (any_team or self.units.get(data.get("team") or "") is team)):
                return self._make(data)
        raise LookupError("the seed names nobody who may do this (validate() checks it)")

    def finish(self) -> None:
        """Without ``demo`` the record-keeping accounts go back to nobody's use."""
        if self.demo:
            return
        for login in self.entries:
            user = self.known.get(login)
            if user is not None and user.password_hash is None:
                user.active = False
        db.session.flush()

    def _make(self, data: dict[str, Any]) -> User:
        user = User(
            login=data["login"],
            name=data.get("name") or data["login"],
            role=data["role"],
            team=self.units.get(data.get("team") or ""),
            # Demo users get an address of the reserved example domain: nothing leaves.
            email=data.get("email") or f"{data['login']}@{DEMO_MAIL_DOMAIN}",
            is_manager=bool(data.get("manager")),
            active=True,
        )
        if self.demo:
            self._give_password(user)
        db.session.add(user)
        db.session.flush()
        self.known[user.login] = user
        self.result.users += 1
        return user

    def _give_password(self, user: User) -> None:
        password = self.password or generate()
        user.password_hash = self.shared_hash or hash_password(password)
        self.result.passwords[user.login] = password


def _load_audit(data: dict[str, Any], units: dict[str, OrgUnit], people: _People,
                result: SeedResult) -> None:
    meta = data["audit"]
    audit = db.session.scalar(db.select(Audit).filter_by(title=meta["title"]))
    if audit is None:
        audit = Audit(
            year=meta["year"],
            title=meta["title"],
            body=meta.get("body", ""),
            organisation=meta.get("organisation", ""),
            received_on=meta.get("received_on"),
            reference_date=meta.get("reference_date"),
        )
        db.session.add(audit)
        db.session.flush()
        result.audits += 1
    have = set(db.session.scalars(db.select(Recommendation.number).filter_by(audit_id=audit.id)))
    for item in data.get("recommendations") or []:
        if item["number"] in have:
            continue
        registrar = people.first(lambda role: grants(role, Capability.MANAGE_ITEMS)
                                 and grants(role, Capability.REVIEW_ITEMS), any_team=True)
        _load_recommendation(audit, item, units, people, registrar)
        result.recommendations += 1


def _actor_for(step: dict[str, Any], lead: OrgUnit | None, people: _People,
               registrar: User) -> User:
    if step.get("by"):
        return people.get(step["by"])
    spec = BY_TRIGGER[step["trigger"]]
    if spec.team_only:
        return people.first(lambda role: grants(role, spec.capability), lead)
    return registrar


def _load_recommendation(audit: Audit, item: dict[str, Any], units: dict[str, OrgUnit],
                         people: _People, registrar: User) -> None:
    created_on = audit.received_on or dates.today()
    lead = units.get(item.get("lead_team") or "")
    recommendation = ops.register(
        audit,
        number=item["number"],
        category=Category.from_label(str(item["category"])),
        council_text=item["council_text"],
        actor=registrar,
        lead_team=lead,
        supporting_teams=[units[code] for code in item.get("supporting_teams") or []],
        due_date=item.get("due_date"),
        at=dates.at_local(created_on, 9),
    )
    timeline = item.get("timeline") or []
    result_written = False
    for index, step in enumerate(timeline):
        actor = _actor_for(step, lead, people, registrar)
        moment = dates.at_local(step["on"], 10, index)
        if step["trigger"] == "submit" and not result_written:
            _write_result(recommendation, item, actor, moment - timedelta(minutes=30))
            result_written = True
        ops.fire(recommendation, step["trigger"], actor, reason=step.get("reason"), at=moment)
    if not result_written and recommendation.state == State.IN_PROGRESS and timeline:
        last = timeline[-1]
        actor = _actor_for({"trigger": "submit"}, lead, people, registrar)
        _write_result(recommendation, item, actor,
                      dates.at_local(last["on"], 10, len(timeline)))


def _write_result(recommendation: Recommendation, item: dict[str, Any], actor: User,
                  moment: Any) -> None:
    if item.get("action_details") or item.get("future_plan"):
        ops.edit_result(recommendation, actor, action_details=item.get("action_details") or "",
                        future_plan=item.get("future_plan"), at=moment)
