"""One page of a longer list, and the page numbers a pager shows (``macros/ui.html`` ``pagination``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int  # 1-based
    per_page: int
    has_next: bool
    total: int | None = None  # None: not counted (a count would cost as much as the search)
    window_size: int = field(default=2, repr=False)
    # Keyset paging: where the next page starts and the previous one ends (opaque to the
    # page), so any page costs what the first does, however deep. None: numbered pages.
    next_after: str | None = None
    prev_before: str | None = None

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.per_page))

    def window(self) -> list[int | None]:
        """Page numbers around the current one, with None for a gap."""
        last = self.pages or (self.number + (1 if self.has_next else 0))
        numbers = sorted(
            {1, last, *range(max(1, self.number - self.window_size),
                             min(last, self.number + self.window_size) + 1)}
        )
        shown: list[int | None] = []
        previous: int | None = None
        for number in numbers:
            if previous is not None and number - previous > 1:
                shown.append(None)
            shown.append(number)
            previous = number
        return shown


def clamp(number: int, total: int, per_page: int) -> int:
    """A requested page number within 1 … the last page of ``total`` items."""
    last = max(1, -(-total // per_page))
    return min(max(number, 1), last)
