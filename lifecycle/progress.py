"""The progress bar the rotation commands print (rich): batches done against rows to do, and the time left."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lifecycle.rotation import Batch


def _stream(wrapper: Any) -> TextIO:
    """The stream under a management command's OutputWrapper, which would add a line ending to each write."""
    return getattr(wrapper, "_out", wrapper)  # type: ignore[no-any-return]


@contextmanager
def progress_bar(
    *, description: str, total: int, stream: Any, enabled: bool = True
) -> Iterator[Callable[[Batch], None]]:
    """A bar of ``total`` rows on ``stream`` (a command's stderr), advanced by each batch's rows, opened or not.
    On a terminal it redraws in place; elsewhere (a log, a test) it prints its last state once."""
    console = Console(file=_stream(stream))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda batch: progress.advance(task, batch.done + len(batch.unreadable))
