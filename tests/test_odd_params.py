"""No query string, however odd, gives a 500: superscript digits, numbers past 64 bits,
NUL and other control characters, very long values, on every page a signed-in user opens."""

from __future__ import annotations

import pytest

from tests.pages_helpers import client_for

ODD = ["²", "١٢", "9" * 30, "-1", "1e3", "0", "\x00", "a\x00b", "\x1b[0m", "x" * 5000, "1.5",
       "'; DROP TABLE recommendation; --", "%", "_"]
PARAMS = ["audit", "page", "team", "state", "category", "q", "overdue", "after", "before",
          "last", "as_of", "due_changes", "chosen", "include_supporting"]
PAGES = ["/", "/recommendations", "/recommendations/export.csv", "/status/teams",
         "/status/open", "/summary", "/notifications", "/audits"]


@pytest.mark.parametrize("path", PAGES)
def test_odd_query_values_never_give_a_server_error(app, make, path):
    make.recommendation()
    client = client_for(app, make.user("audit"))
    failures = []
    for name in PARAMS:
        for value in ODD:
            response = client.get(path, query_string={name: value})
            if response.status_code >= 500:
                failures.append((name, repr(value[:20]), response.status_code))
    assert failures == []


@pytest.mark.parametrize(("text", "expected"), [
    ("12", 12), ("0", 0), ("²", None), ("١٢", None), (" 12", None), ("-1", None),
    (str(2**31 - 1), 2**31 - 1), (str(2**31), None), ("9" * 30, None), (None, None), ("", None),
])
def test_small_int_takes_only_ascii_digits_in_range(text, expected):
    from auditflow.params import small_int

    assert small_int(text) == expected


def test_search_text_drops_control_characters():
    from auditflow.params import search_text

    assert search_text("AI\x00 동행\x1b팀\n") == "AI 동행팀"
    assert len(search_text("가" * 500)) == 200
