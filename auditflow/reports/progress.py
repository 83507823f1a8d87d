"""How far a writer has got: items written of the report's items, told to whoever asked.

Every writer takes an optional ``progress(done, total)``; without it, it writes
exactly what it wrote before. With it, the writer says ``(0, total)`` as it
starts, ``(n, total)`` after each item where it writes item by item (CSV, XLSX,
HWPX), and ``(total, total)`` when its file is complete. The printable HTML and
the PDF are one template render and one WeasyPrint layout, which tell nothing
in between: they say the start and the end only. A writer may reach
``(total, total)`` before its file is finished (HWPX serialises and checks the
document after its last item): the caller knows the file is done when the
writer returns.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


class Steps:
    """The items a writer has written, told to ``progress`` (if any) as they go."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self.total = total
        self.done = 0
        self._tell()

    def advance(self) -> None:
        if self.done < self.total:
            self.done += 1
            self._tell()

    def finish(self) -> None:
        self.done = self.total
        self._tell()

    def _tell(self) -> None:
        if self._progress is not None:
            self._progress(self.done, self.total)
