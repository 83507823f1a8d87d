"""Every route × method × actor, as tests/access_matrix.py says, with CSRF on.

A refused POST must leave the database as it was: the item, its teams, the
users and audits, and the row count of every table (sign-in attempts and access records aside).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from auditflow.extensions import db
from auditflow.models import (
    ApiToken,
    Audit,
    Evidence,
    Notification,
    OrgUnit,
    Recommendation,
    User,
    UserSession,
    utcnow,
)
from auditflow.web.assets import ASSET_ENDPOINTS
from auditflow.workflow import TRANSITIONS
from tests.access_matrix import ACTORS, CHANGED, LOGIN, MATRIX, REDIRECT, TRIGGER_CASES, Case, World
from tests.auth_helpers import csrf_token, login, replay_session, session_cookie
from tests.conftest import DatabaseSnapshot
from tests.factories import PASSWORD

ITEM_FIELDS = ("state", "version", "category", "council_text", "lead_team_id", "due_date",
               "action_details", "future_plan")
USER_FIELDS = ("login", "name", "role", "team_id", "active", "password_hash", "totp_secret",
               "totp_confirmed_at")
# What a kept sign-in puts back into a fresh copy of its world (its server-side session).
SESSION_FIELDS = ("user_id", "secret_hash", "created_at", "user_agent", "address")
AUDIT_FIELDS = ("year", "title", "body", "organisation", "received_on", "reference_date")


def world_name(case: Case) -> str:
    return f"matrix_{case.state}_{case.setup.__name__ if case.setup else 'plain'}"


def build_world(make: Any, case: Case, backend: Any) -> World:
    """The world of ``case``: made once per item state and setup (and backend), then copied."""
    name = world_name(case)
    snapshot = backend.snapshots.get(name)
    if snapshot is None:
        world = _make_world(make, case)
        snapshot = DatabaseSnapshot.take(backend, name, _ids_of(world))
    else:
        snapshot.restore()
    return _world_from(snapshot.payload)


def _ids_of(world: World) -> dict[str, Any]:
    return {"audit": world.audit.id, "own": world.own.id, "other": world.other.id,
            "rec": world.rec.id, "users": {k: u.id for k, u in world.users.items()},
            "extra": dict(world.extra)}


def _world_from(ids: dict[str, Any]) -> World:
    # The users and the two teams in one statement each.
    users = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_(ids["users"].values())))}
    teams = {team.id: team for team in db.session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_((ids["own"], ids["other"]))))}
    return World(audit=db.session.get(Audit, ids["audit"]), own=teams[ids["own"]],
                 other=teams[ids["other"]], rec=db.session.get(Recommendation, ids["rec"]),
                 users={k: users[v] for k, v in ids["users"].items()}, extra=dict(ids["extra"]))


def _make_world(make: Any, case: Case) -> World:
    own, other = make.team(), make.team()
    audit = make.audit()
    rec = make.recommendation(audit=audit, lead=own, state=case.state)
    users = {
        "audit": make.user("audit"),
        "own_team": make.user("department", team=own),
        "other_team": make.user("department", team=other),
        "liaison": make.user("liaison"),
        "admin": make.user("admin"),
    }
    world = World(audit=audit, own=own, other=other, rec=rec, users=users)
    if case.setup is not None:
        case.setup(world)
    db.session.commit()
    return world


def snapshot(world: World) -> dict[str, Any]:
    db.session.expire_all()
    # Every sign-in attempt is logged and every password check counted, and every refusal is
    # an access record (with its chain's head), by design.
    tables = [table for table in db.metadata.sorted_tables
              if table.name not in ("login_attempt", "login_throttle", "access_log", "chain_head")]
    row = db.session.execute(select(*(
        select(func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in tables))).one()
    counts = dict(row._mapping)
    rec = db.session.get(Recommendation, world.rec.id)
    return {
        "counts": counts,
        "item": {name: getattr(rec, name) for name in ITEM_FIELDS},
        "supporting": sorted(team.id for team in rec.supporting_teams),
        "users": sorted(
            tuple(getattr(user, name) for name in ("id", *USER_FIELDS))
            for user in db.session.scalars(select(User))
        ),
        "audits": sorted(
            tuple(getattr(audit, name) for name in ("id", *AUDIT_FIELDS))
            for audit in db.session.scalars(select(Audit))
        ),
        "evidence": sorted(
            (item.id, item.deleted_at) for item in db.session.scalars(select(Evidence))
        ),
        "notifications": sorted(
            (item.id, item.read_at) for item in db.session.scalars(select(Notification))
        ),
        "tokens": sorted(
            (item.id, item.revoked_at) for item in db.session.scalars(select(ApiToken))
        ),
        "sessions": sorted(
            (item.secret_hash, item.ended_at) for item in db.session.scalars(select(UserSession))
        ),
    }


def sign_in(app: Any, backend: Any, case: Case, world: World, actor: str) -> tuple[Any, str]:
    """A client for ``actor`` (signed in unless anonymous) and a CSRF token of its session.

    Worlds are copies of one snapshot, with the same users and session tokens each time:
    the session cookie of the first sign-in is kept (on the backend) and signs the next
    client in, as a browser that stays signed in from one case to the next would.
    """
    client = app.test_client()
    key = ("signed in", world_name(case), actor)
    if key in backend.kept:
        cookie, token, signed_in_row = backend.kept[key]
        if cookie is not None:
            replay_session(client, cookie)
        if signed_in_row is not None:  # the sign-in's server-side session, in this copy too
            db.session.add(UserSession(**signed_in_row, last_seen_at=utcnow()))
            db.session.commit()
        return client, token
    signed_in_row = None
    if actor != "anonymous":
        response = login(client, world.users[actor].login, PASSWORD)
        assert response.status_code == 303, f"{actor} could not sign in"
        db.session.expire_all()
        latest = db.session.scalars(select(UserSession).where(
            UserSession.user_id == world.users[actor].id).order_by(UserSession.id.desc())).first()
        assert latest is not None
        signed_in_row = {name: getattr(latest, name) for name in SESSION_FIELDS}
    token = csrf_token(client, "/login" if actor == "anonymous" else "/")
    backend.kept[key] = (session_cookie(client), token, signed_in_row)
    return client, token


def run_case(app: Any, make: Any, backend: Any, case: Case, method: str, actor: str) -> None:
    # The kept sign-ins serve the whole run: 본인 확인 (its own tests) must not expire them.
    app.config["REAUTH_MINUTES"] = 24 * 60
    world = build_world(make, case, backend)
    client, token = sign_in(app, backend, case, world, actor)
    url = case.url(world)
    data = case.data(world) if case.data else {}
    if method == "GET":
        before = None
        response = client.get(url)
    else:
        before = snapshot(world)
        if case.json:
            response = client.post(url, json=data, headers={"X-CSRFToken": token})
        else:
            response = client.post(url, data={**data, "csrf_token": token})
    expected = case.expect[actor]
    where = f"{method} {url} as {actor}: answered {response.status_code}"
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        assert response.status_code in (302, 303) and "/login" in location, where
    elif expected == REDIRECT:
        assert response.status_code in (301, 302, 303) and "/login" not in location, (
            f"{where} (to {location!r}), expected a redirect (not to the sign-in page)"
        )
    elif expected == CHANGED:
        assert response.status_code < 400, f"{where}, expected the change to be accepted"
    else:
        assert response.status_code == expected, f"{where}, expected {expected}"
    if before is not None:
        after = snapshot(world)
        if expected == CHANGED:
            assert after != before, f"{where}: accepted, but nothing changed in the database"
        else:
            assert after == before, f"{where}: refused, yet the database changed"


MATRIX_PARAMS = [
    pytest.param(endpoint, method, actor, id=f"{endpoint}-{method}-{actor}")
    for (endpoint, method) in sorted(MATRIX)
    for actor in ACTORS
]


@pytest.mark.parametrize(("endpoint", "method", "actor"), MATRIX_PARAMS)
def test_route(app, make, backend, render_once, endpoint: str, method: str, actor: str) -> None:
    run_case(app, make, backend, MATRIX[(endpoint, method)], method, actor)


TRIGGER_PARAMS = [
    pytest.param(trigger, actor, id=f"{trigger}-{actor}")
    for trigger in sorted(TRIGGER_CASES)
    for actor in ACTORS
]


@pytest.mark.parametrize(("trigger", "actor"), TRIGGER_PARAMS)
def test_trigger(app, make, backend, trigger: str, actor: str) -> None:
    run_case(app, make, backend, TRIGGER_CASES[trigger], "POST", actor)


def test_every_route_is_in_the_matrix(app) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ASSET_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - set(MATRIX))
    assert not missing, (
        "routes without a row in tests/access_matrix.py (see the format at its top): "
        + ", ".join(f"{endpoint} {method}" for endpoint, method in missing)
    )
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_trigger_is_tried() -> None:
    assert {spec.trigger for spec in TRANSITIONS} == set(TRIGGER_CASES)
