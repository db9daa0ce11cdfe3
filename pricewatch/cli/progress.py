"""A live crawl display for terminals: one line per distributor with its pages, offers and errors."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from pricewatch.crawls.local import CrawlProgress


def terminal_console(stream: IO[str] | None = None) -> Console | None:
    """A rich console on `stream` (default stderr) when it is a terminal; None when output is piped."""
    from rich.console import Console

    display = stream or sys.stderr
    return Console(file=display) if display.isatty() else None


def _fields(p: CrawlProgress) -> dict[str, Any]:
    return {"status": p.status, "pages": p.pages, "offers": p.offers, "errors": p.errors}


@contextlib.contextmanager
def crawl_progress(console: Console | None) -> Iterator[Callable[[CrawlProgress], None] | None]:
    """A rich progress display, one line per distributor; no display (None) without a terminal."""
    if console is None:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<20}"),
        TextColumn("{task.fields[status]:<9}"),
        TextColumn("pages {task.fields[pages]:>6}  offers {task.fields[offers]:>6}  errors {task.fields[errors]:>4}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def update(p: CrawlProgress) -> None:
            if p.distributor not in tasks:
                tasks[p.distributor] = bar.add_task(p.distributor, total=None, start=False, **_fields(p))
            task = tasks[p.distributor]
            if p.status == "running":
                bar.start_task(task)
            bar.update(task, **_fields(p))
            if p.status in ("finished", "failed"):
                bar.stop_task(task)
                bar.update(task, total=1, completed=1)

        yield update
