"""The users of ``bench/load_bench.py``: signed-in people working through the web pages.

    locust -f bench/locustfile.py --headless ...     # started by bench/load_bench.py

Read from the environment (load_bench.py sets them):
``LOADBENCH_ACCOUNTS`` a JSON file of accounts (login, password, kind, TOTP secret),
``LOADBENCH_OUT`` the folder this writes to (``writes.jsonl``: every change the client was
told succeeded; ``outcomes.json``: the outcome of every request, by kind),
``LOADBENCH_USERS`` how many sign in (when the last has, it writes the time to ``signed_in``),
``LOADBENCH_THINK`` the pause between two tasks, "1-3" (seconds, drawn evenly) by default.

Two kinds of people, as the permission model has them. A department (team) user lists its
team's items, opens them, writes their 추진내용 and 향후계획, comments, uploads evidence and
fires the team's triggers (추진 시작, 검토 요청); an audit-team user signs in with its second
factor, lists and opens every team's items, reads the summary, comments, corrects results under
review and fires the review's triggers (승인, 보완 요청). Every change is made as a browser
makes it: the item page is opened, its form read (CSRF token, version, the buttons the
workflow offers), and posted; the answer is followed to the page it sends back to, whose
message says whether the change was made. A change is chosen among the pages this user opened
lately, so a version may be stale by the time it is posted (another user changed the item):
that is a conflict, refused by the server, and counted as one.

The weights (per task, over both kinds: 80% team users, 20% audit users): reads of lists, items
and the summary 70%, result edits and comments 20%, uploads 5%, triggers 5%. A change with no
page to make it on (none opened lately offers that form) opens an item first, a read, and
makes the change there if the item offers it.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_pages import CONFLICT, SAVED, forms_of, png, signed_form  # noqa: E402

ACCOUNTS: list[dict[str, Any]] = (
    json.loads(Path(os.environ["LOADBENCH_ACCOUNTS"]).read_text(encoding="utf-8"))
    if os.environ.get("LOADBENCH_ACCOUNTS") else [])
OUT = Path(os.environ.get("LOADBENCH_OUT") or ".")
_lo, _, _hi = (os.environ.get("LOADBENCH_THINK") or "1-3").partition("-")
THINK = (float(_lo), float(_hi or _lo))
USERS = int(os.environ.get("LOADBENCH_USERS") or 0)

ITEM_LINK = re.compile(r'href="/recommendations/(\d+)"')
FLASH = re.compile(r'<p class="app-flash[^"]*"[^>]*>([^<]*)</p>')
AUDIT_OPTION = re.compile(r'<option[^>]*value="(\d+)"')
CATEGORY_OPTION = re.compile(r'<option[^>]*value="([a-z_]+)"')
RECENT_PAGES = 30

_accounts = {kind: iter([a for a in ACCOUNTS if a["kind"] == kind]) for kind in ("team", "audit")}
_lock = threading.Lock()
_outcomes: dict[str, Counter[str]] = defaultdict(Counter)
_examples: dict[str, list[str]] = defaultdict(list)
_writes = None
_tokens = itertools.count(1)
_signed_in = 0


def _write_log() -> Any:
    global _writes
    if _writes is None:
        OUT.mkdir(parents=True, exist_ok=True)
        _writes = (OUT / "writes.jsonl").open("a", encoding="utf-8")
    return _writes


def record_write(entry: dict[str, Any]) -> None:
    log = _write_log()
    log.write(json.dumps(entry, ensure_ascii=False) + "\n")
    log.flush()


def count(kind: str, outcome: str) -> None:
    _outcomes[kind][outcome] += 1


@events.quitting.add_listener
def _save(**_kw: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "outcomes.json").write_text(
        json.dumps({k: dict(v) for k, v in _outcomes.items()}, ensure_ascii=False, indent=1),
        encoding="utf-8")
    (OUT / "refusals.json").write_text(json.dumps(_examples, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    if _writes is not None:
        _writes.close()


class Worker(HttpUser):
    """Someone at work: signs in once, then reads and changes items until the run ends."""

    abstract = True
    wait_time = between(*THINK)
    kind = ""
    list_states: tuple[str, ...] = ("",)
    triggers: tuple[str, ...] = ()
    # the lists whose items offer the result form and this user's triggers
    result_states: tuple[str, ...] = ()
    trigger_states: tuple[str, ...] = ()

    def on_start(self) -> None:
        self.account = next(_accounts[self.kind])
        self.login = self.account["login"]
        self.listed: dict[str, list[int]] = {}  # the items of the latest list of each state
        self.pages: dict[int, dict[str, dict[str, str]]] = {}
        self.audits: list[str] = []
        self.categories: list[str] = []  # read from the list's filter
        self.sign_in()

    # ── signing in ────────────────────────────────────────────────────────────────────────
    def sign_in(self) -> None:
        for _attempt in range(10):
            page = self.client.get("/login", name="sign in")
            fields = signed_form(page.text)
            with self.client.post("/login", name="sign in", allow_redirects=False,
                                  catch_response=True,
                                  data={**fields, "login": self.login,
                                        "password": self.account["password"]}) as answer:
                self._tally("sign in", answer)
                if answer.status_code == 429:  # the hashing is busy: wait, try again
                    answer.success()
                    time.sleep(1 + random.random())  # gevent's sleep: the others go on
                    continue
                if answer.status_code != 303:
                    answer.failure(f"sign-in refused: {answer.status_code}")
                    return
            if "/login/code" in answer.headers.get("Location", ""):
                self.second_step()
            self.signed_in()
            return

    def signed_in(self) -> None:
        """The last of the users signed in: the load proper begins (load_bench.py reads it)."""
        global _signed_in
        with _lock:
            _signed_in += 1
            if _signed_in == USERS:
                (OUT / "signed_in").write_text(f"{time.time()}", encoding="utf-8")

    def second_step(self) -> None:
        page = self.client.get("/login/code", name="sign in")
        fields = signed_form(page.text)
        code = pyotp.TOTP(self.account["totp_secret"]).now()
        with self.client.post("/login/code", name="sign in", allow_redirects=False,
                              catch_response=True,
                              data={**fields, "code": code}) as answer:
            self._tally("sign in", answer)
            if answer.status_code != 303:
                answer.failure(f"second factor refused: {answer.status_code}")

    # ── outcomes ──────────────────────────────────────────────────────────────────────────
    def _tally(self, kind: str, response: Any, saved: str | None = None) -> str:
        status = response.status_code
        if status == 0:
            outcome = "no answer"
        elif kind != "sign in" and urlsplit(response.url or "").path.startswith("/login"):
            outcome = "signed out"  # sent to the sign-in page: the session is gone
        elif status >= 500:
            outcome = f"server error {status}"
        elif status == 409 or (saved is not None and CONFLICT in response.text):
            outcome = "conflict"
        elif status >= 400:
            outcome = f"refused {status}"
        elif saved is not None and saved not in response.text:
            outcome = "refused (message)"
        else:
            outcome = "ok"
        with _lock:
            count(kind, outcome)
            if outcome != "ok" and len(_examples[kind]) < 5:  # what the page said
                said = FLASH.findall(response.text or "")
                _examples[kind].append(f"{outcome}: {response.url} {' / '.join(said)[:300]}")
        if outcome.startswith(("server error", "no answer", "signed out")):
            response.failure(outcome)
        else:
            response.success()  # a refusal is an answer, not a failure of the server
        return outcome

    def _get(self, kind: str, path: str) -> str | None:
        with self.client.get(path, name=kind, catch_response=True) as answer:
            return answer.text if self._tally(kind, answer) == "ok" else None

    # ── reads ─────────────────────────────────────────────────────────────────────────────
    def read_list(self) -> None:
        # As people look: one state, of one audit and category now and then; so the eight
        # people of a team do not all open the same 20 items of its first page.
        state = random.choice(self.list_states)
        audit = random.choice(["", *self.audits])
        category = random.choice(["", *self.categories])
        html = self._get("list", f"/recommendations?audit={audit}&state={state}"
                                 f"&category={category}")
        if html:
            if not self.categories:  # the filter's own choices, as the page offers them
                select = html[html.find('name="category"'):]
                self.categories = CATEGORY_OPTION.findall(select[:select.find("</select>")])
            found = [int(i) for i in ITEM_LINK.findall(html)]
            if found:
                self.listed[state] = list(dict.fromkeys(found))

    def read_item(self, states: tuple[str, ...] = ()) -> None:
        """Open an item of a list read lately (of one of ``states``, when there is one)."""
        lists = [self.listed[s] for s in states if self.listed.get(s)] or list(self.listed.values())
        if not lists:
            self.read_list()
            return
        item = random.choice(random.choice(lists))
        html = self._get("item", f"/recommendations/{item}")
        if html:
            self._remember(item, html)

    def read_summary(self) -> None:
        path = "/summary" + (f"?audit={random.choice(self.audits)}" if self.audits else "")
        html = self._get("summary", path)
        if html and not self.audits:
            self.audits = AUDIT_OPTION.findall(html)

    def _remember(self, item: int, html: str) -> None:
        self.pages.pop(item, None)
        self.pages[item] = forms_of(html)
        while len(self.pages) > RECENT_PAGES:
            self.pages.pop(next(iter(self.pages)))

    # ── changes ───────────────────────────────────────────────────────────────────────────
    def _page_with(self, wanted: Callable[[str], bool],
                   states: tuple[str, ...] = ()) -> tuple[int, str, dict[str, str]] | None:
        """A page opened lately that offers a form whose action is ``wanted``; none opened
        yet does: an item is opened first (a read, from a list of ``states`` when one was
        read), as someone looks for one to work on."""
        for attempt in range(2):
            offers = [(item, action, fields) for item, forms in self.pages.items()
                      for action, fields in forms.items() if wanted(action)]
            if offers:
                return random.choice(offers)
            if attempt == 0:
                self.read_item(states)
        return None

    def _change(self, kind: str, item: int, action: str, data: dict[str, str],
                entry: dict[str, Any], files: Any = None) -> None:
        with self.client.post(action, name=kind, data=data, files=files,
                              catch_response=True) as answer:
            outcome = self._tally(kind, answer, SAVED[kind])
        if outcome == "ok":
            record_write({"kind": kind, "item": item, "login": self.login, **entry})
            self._remember(item, answer.text)  # the page it was sent back to
        else:
            self.pages.pop(item, None)  # stale: open it again before changing it

    def token(self) -> str:
        return f"lb{next(_tokens)}-{self.login}"

    def edit_result(self) -> None:
        found = self._page_with(lambda action: action.endswith("/result"), self.result_states)
        if found is None:
            return
        item, action, fields = found
        token = self.token()
        text = f"ㅇ 벤치 조치내용 {token}\n  - 추진 중"
        self._change("result", item, action,
                     {**fields, "action_details": text, "future_plan": "ㅇ 계속 추진"},
                     {"token": token})

    def comment(self) -> None:
        found = self._page_with(lambda action: action.endswith("/comments"))
        if found is None:
            return
        item, action, fields = found
        token = self.token()
        self._change("comment", item, action, {**fields, "body": f"벤치 의견 {token}"},
                     {"token": token})

    def upload(self) -> None:
        found = self._page_with(lambda action: action.endswith("/evidence"),
                                ("in_progress", "received"))
        if found is None:
            return
        item, action, fields = found
        token = self.token()
        name = f"벤치증빙-{token}.png"
        self._change("upload", item, action, fields, {"token": token, "name": name},
                     files=[("files", (name, png(token), "image/png"))])

    def fire(self) -> None:
        found = self._page_with(lambda action: "/actions/" in action
                                and action.rsplit("/", 1)[1] in self.triggers, self.trigger_states)
        if found is None:
            return
        item, action, fields = found
        trigger = action.rsplit("/", 1)[1]
        data = dict(fields)
        token = None
        if "reason" in data:  # the form has a reason box: the reason names the write
            token = self.token()
            data["reason"] = f"벤치 사유 {token}"
        self._change("trigger", item, action, data, {"token": token, "trigger": trigger})


class TeamUser(Worker):
    """A department user: its own team's items."""

    weight = 4
    kind = "team"
    list_states = ("", "received", "in_progress", "in_progress", "reviewing")
    triggers = ("start", "submit")
    result_states = ("in_progress",)
    trigger_states = ("received", "in_progress")

    # 69 reads, 20 result edits and comments, 6 uploads, 5 triggers
    @task(33)
    def t_list(self) -> None:
        self.read_list()

    @task(36)
    def t_item(self) -> None:
        self.read_item()

    @task(12)
    def t_result(self) -> None:
        self.edit_result()

    @task(8)
    def t_comment(self) -> None:
        self.comment()

    @task(6)
    def t_upload(self) -> None:
        self.upload()

    @task(5)
    def t_trigger(self) -> None:
        self.fire()


class AuditUser(Worker):
    """An audit-team user: every item, the summary, the review's decisions."""

    weight = 1
    kind = "audit"
    list_states = ("", "reviewing", "reviewing", "in_progress")
    triggers = ("approve", "return_for_rework")
    result_states = trigger_states = ("reviewing",)

    # 75 reads, 20 result corrections and comments, no uploads (not the team's), 5 triggers
    @task(25)
    def t_list(self) -> None:
        self.read_list()

    @task(30)
    def t_item(self) -> None:
        self.read_item()

    @task(20)
    def t_summary(self) -> None:
        self.read_summary()

    @task(8)
    def t_result(self) -> None:
        self.edit_result()

    @task(12)
    def t_comment(self) -> None:
        self.comment()

    @task(5)
    def t_trigger(self) -> None:
        self.fire()
