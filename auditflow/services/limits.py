"""How long each text people write may be, checked here whatever sent it (a form, the JSON
API, an imported file), so that no way in stores more than the others allow.

The page forms say the same limits (``Length(max=...)``); the API's schemas too.
"""

from __future__ import annotations

from auditflow.errors import DomainError

REASON_MAX = 2000  # 사유 of a transition, an assignment, a due date, a text edit, a request
COMMENT_MAX = 5000  # 의견
COUNCIL_TEXT_MAX = 5000  # 요구사항 내용
ACTION_DETAILS_MAX = 20000  # 추진내용
FUTURE_PLAN_MAX = 10000  # 향후계획
SEARCH_MAX = 200  # 검색어


def bounded(text: str | None, limit: int, *, label: str, field: str) -> str | None:
    """``text`` as given, or refused (422, naming ``field``) when longer than ``limit``."""
    if text is not None and len(text) > limit:
        raise DomainError(f"{label}은(는) {limit:,}자 이하로 입력하세요. (지금 {len(text):,}자)",
                          code=f"{field}_too_long", status=422, field=field)
    return text
