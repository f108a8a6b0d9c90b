"""Time limits and progress for long work.

Long computations take a :class:`Deadline` and check it at natural break points; when it has
passed they stop and report UNKNOWN with reason ``"time limit"`` rather than run on. Progress
bars show on a terminal and stay quiet otherwise (or with ``quiet=True``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from theorychk.errors import InvalidInput

__all__ = ["Deadline", "progress"]


@dataclass
class Deadline:
    """A wall-clock budget. ``Deadline(None)`` never expires.

    Examples
    --------
    >>> d = Deadline(None)
    >>> d.expired(), d.remaining() is None
    (False, True)
    """

    seconds: float | None
    start: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if self.seconds is not None and not (self.seconds > 0):
            raise InvalidInput(f"time_limit must be a positive number of seconds or None; got {self.seconds!r}")

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float | None:
        if self.seconds is None:
            return None
        return max(0.0, self.seconds - self.elapsed())

    def expired(self) -> bool:
        return self.seconds is not None and self.elapsed() >= self.seconds


class _Bar:
    def __init__(self, progress: object | None, task: object | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)  # type: ignore[attr-defined]

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        if self._progress is not None:
            kwargs = {k: v for k, v in (("total", total), ("description", description)) if v is not None}
            self._progress.update(self._task, **kwargs)  # type: ignore[attr-defined]


@contextmanager
def progress(description: str, *, total: int | None = None, quiet: bool = False) -> Iterator[_Bar]:
    """A rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if quiet or not sys.stderr.isatty():
        yield _Bar(None, None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True,
    ) as bar:
        yield _Bar(bar, bar.add_task(description, total=total))
