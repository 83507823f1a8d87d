"""A real browser against a real server: Debian's Chromium driven by Playwright.

The app is served by werkzeug in a thread on 127.0.0.1 (a free port) over the
test's own seeded database: PostgreSQL when AUDITFLOW_TEST_DATABASE_URL is set (the
production database), else SQLite (the ``app`` fixture; each story runs once). Playwright never downloads a browser
here (no ``playwright install``): it launches /usr/bin/chromium. Where that is
missing the browser tests are skipped with the command that installs it; this
is the one skip the suite allows.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's Chromium. "
            "Install it with `apt-get install chromium` (and fonts-noto-cjk for Korean text); "
            ".ci/run does this in CI."
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # errors are still logged
        pass


@pytest.fixture
def axe_report() -> AxeReport:
    return AxeReport()


@pytest.fixture
def live_server(app, seeded) -> Iterator[str]:
    """The app on http://127.0.0.1:<free port>, over the seeded test database."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


# What differs from one request of a page to the next while the document stays the same:
# the CSRF token (in the head and in every form) and the session's seconds left.
_UNIQUE_PER_REQUEST = re.compile(
    r'(name="csrf[-_]token"[^>]*?(?:value|content)=")[^"]*|(data-session-seconds=")\d+')
# axe's findings by (width, document) for the worker's run: axe-core's rules read the
# document and the styles at that width, nothing else.
_CHECKED: dict[tuple[int | None, str], dict[str, Any]] = {}


@dataclass
class AxeReport:
    """Accessibility findings (serious or critical) per page, collected along a story.

    Each story runs once (on one database, see tests/conftest.py), and checks every page.
    """

    enabled: bool = True
    pages: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    # Moderate and minor findings: reported for the owners of the pages, not failing.
    minor: dict[str, set[str]] = field(default_factory=dict)

    def prepare(self, context: Any) -> None:
        """Load axe-core into every page of a browser context (not governed by the page's CSP)."""
        if self.enabled:
            context.add_init_script(path=str(AXE))

    def check(self, page: Any, label: str) -> None:
        if not self.enabled:
            return
        if not AXE.is_file():
            pytest.fail(f"axe-core is missing ({AXE}); run `make install` (npm ci) first")
        # The same document at the same width has the same findings: a page met again (the
        # sign-in page of each new person, say) takes those of its first check in this run.
        seen = (page.viewport_size["width"] if page.viewport_size else None,
                _UNIQUE_PER_REQUEST.sub(r"\1\2", page.content()))
        result = _CHECKED.get(seen)
        if result is None:
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.add_script_tag(path=str(AXE))
            result = _CHECKED[seen] = page.evaluate(
                # preload: false — axe would otherwise inject <style> copies of the
                # stylesheets, which the page's CSP (rightly) refuses.
                "async () => await axe.run(document, {resultTypes: ['violations'], preload: false})"
            )
        blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        for violation in result["violations"]:
            if violation.get("impact") not in BLOCKING_IMPACTS:
                key = f"[{violation.get('impact')}] {violation['id']}: {violation['help']}"
                self.minor.setdefault(key, set()).add(label)
        self.pages.append((f"{label} ({page.url})", blocking))

    @property
    def failures(self) -> list[tuple[str, list[dict[str, Any]]]]:
        return [(where, found) for where, found in self.pages if found]

    def describe(self) -> str:
        lines = []
        for where, found in self.failures:
            lines.append(f"{where}:")
            for violation in found:
                lines.append(
                    f"  [{violation['impact']}] {violation['id']}: {violation['help']} "
                    f"({violation.get('helpUrl', '')})"
                )
                for node in violation.get("nodes", [])[:10]:
                    target = ", ".join(str(t) for t in node.get("target", []))
                    summary = " ".join((node.get("failureSummary") or "").split())
                    lines.append(f"    - {target}: {summary}")
        return "\n".join(lines)
