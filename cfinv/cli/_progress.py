"""
Progress displays for ``cfinv invalidate`` and ``cfinv demo``, all on stderr.

* ``bar``: a live display (rich) with one line per distribution;
* ``lines``: one plain line per event (the ``cfinv`` logger's lines);
* ``json``: one JSON object per event, for machines;
* ``none``: nothing.

``auto`` is ``bar`` on a terminal (when rich is installed), ``lines`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

import attrs

from cfinv.events import (
    Completed,
    Event,
    Finished,
    Planned,
    Retrying,
    Submitted,
    WaitingForCapacity,
)
from cfinv.models import Invalidation, InvalidationStatus
from cfinv.paths import Plan

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Progress", "event_to_dict", "make_progress"]


def _plain(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """Event fields as JSON-ready values."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Invalidation):
        return {
            "Id": value.id,
            "Status": value.status.value,
            "Paths": value.batch.paths.quantity,
            "CallerReference": value.batch.caller_reference,
        }
    if isinstance(value, Plan):
        return {
            "InputPaths": value.input_count,
            "DuplicatesDropped": value.duplicates_dropped,
            "CoveredDropped": value.covered_dropped,
            "BillablePaths": value.billable,
            "Batches": len(value.batches),
        }
    if isinstance(value, (InvalidationStatus, enum.Enum)):
        return value.value
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """One event as a JSON-ready dict: ``{"event": "Submitted", ...its fields}``."""
    fields = {f.name: getattr(event, f.name) for f in attrs.fields(type(event))}
    if isinstance(event, Finished):
        fields["report"] = event.report.to_dict()
    return {"event": type(event).__name__} | {k: _plain(v) for k, v in fields.items()}


class Progress:
    """A display; use as a context manager, feed it events with `__call__`."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def __call__(self, event: Event) -> None:
        """Show one event."""


class _Lines(Progress):
    """The ``cfinv`` logger's lines, on stderr."""

    def __enter__(self) -> Progress:
        self._handler = logging.StreamHandler(sys.stderr)
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        logger = logging.getLogger("cfinv")
        self._level = logger.level
        logger.addHandler(self._handler)
        logger.setLevel(min(logging.INFO, logger.level or logging.INFO))
        return self

    def __exit__(self, *exc_info: object) -> None:
        logger = logging.getLogger("cfinv")
        logger.removeHandler(self._handler)
        logger.setLevel(self._level)


class _JsonLines(Progress):
    def __call__(self, event: Event) -> None:
        sys.stderr.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        sys.stderr.flush()


class _Bar(Progress):
    """One live line per distribution: paths completed, what it waits for."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.fields[target]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("paths"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=Console(stderr=True),
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Progress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def _task(self, target: str) -> Any:
        if target not in self._tasks:
            self._tasks[target] = self._progress.add_task(
                "", total=None, target=target, note="planning"
            )
        return self._tasks[target]

    def __call__(self, event: Event) -> None:
        task = self._task(event.distribution_id)
        update = self._progress.update
        if isinstance(event, Planned):
            plan = event.plan
            update(
                task,
                total=plan.billable,  # paths: batches are cut as they are sent
                note=f"{plan.billable} paths ({plan.duplicates_dropped} duplicates, "
                f"{plan.covered_dropped} covered dropped)",
            )
        elif isinstance(event, WaitingForCapacity):
            who = "another writer" if event.refused else "in-progress invalidations"
            update(task, note=f"batch {event.batch} waits for {who}")
        elif isinstance(event, Submitted):
            update(task, note=f"batch {event.batch} sent as {event.invalidation.id}")
        elif isinstance(event, Retrying):
            update(task, note=f"retrying {event.operation}: {event.error}"[:60])
        elif isinstance(event, Completed) and event.batch is not None:
            paths = event.invalidation.batch.paths.quantity
            update(task, advance=paths, note=f"{event.invalidation.id} completed")
        elif isinstance(event, Finished):
            state = "timed out" if event.report.timed_out else "done"
            update(task, note=f"{state} in {event.report.elapsed:.1f}s")


def make_progress(kind: str) -> Progress:
    """The display for ``--progress``."""
    if kind == "auto":
        kind = "bar" if sys.stderr.isatty() else "lines"
    if kind == "bar":
        try:
            return _Bar()
        except ImportError:
            return _Lines()  # rich is in the `cli` extra
    if kind == "lines":
        return _Lines()
    if kind == "json":
        return _JsonLines()
    return Progress()
