"""
Progress displays for ``cfinv invalidate`` and ``cfinv demo``, all on stderr.

* ``bar``: a live display (rich): per distribution, paths completed of those
  planned, batches sent and completed, the time elapsed and an ETA learned from
  the invalidations completed so far; below, each invalidation in flight with
  its status and age, and what the run waits for (capacity, retries);
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
import math
import sys
import threading
from typing import TYPE_CHECKING, Any

import attrs

from cfinv.events import (
    Completed,
    Event,
    Finished,
    Planned,
    Polled,
    Retrying,
    Submitted,
    WaitingForCapacity,
)
from cfinv.models import Invalidation, InvalidationStatus
from cfinv.paths import Plan
from cfinv.runtime import utcnow

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

    from cfinv.report import InvalidationReport

__all__ = ["Progress", "event_to_dict", "format_clock", "make_progress"]


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
    if isinstance(value, enum.Enum):
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
    """
    The ``cfinv`` logger's lines, on stderr.

    Under ``--debug`` every record reaches stderr already (with its time and
    logger), so this display adds nothing: each line is printed once.
    """

    def __init__(self) -> None:
        self._handler: logging.Handler | None = None
        self._level = logging.NOTSET

    def __enter__(self) -> Progress:
        from cfinv.cli._debug import debug_logging_active

        if debug_logging_active():
            return self
        self._handler = logging.StreamHandler(sys.stderr)
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        logger = logging.getLogger("cfinv")
        self._level = logger.level
        logger.addHandler(self._handler)
        logger.setLevel(min(logging.INFO, logger.level or logging.INFO))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handler is None:
            return
        logger = logging.getLogger("cfinv")
        logger.removeHandler(self._handler)
        logger.setLevel(self._level)
        self._handler = None


class _JsonLines(Progress):
    def __call__(self, event: Event) -> None:
        sys.stderr.write(json.dumps(event_to_dict(event), ensure_ascii=False) + "\n")
        sys.stderr.flush()


def format_clock(seconds: float) -> str:
    """
    Seconds as a clock reads them: ``0:07``, ``12:30``, ``1:02:03``.

    Args:
        seconds: A duration (negative counts as zero).
    """
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _short_error(error: BaseException) -> str:
    """An error on one line: CloudFront's code and message (no hint), else its class and text."""
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    if isinstance(code, str) and isinstance(message, str):
        return f"{code}: {message}"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _waiting_note(event: WaitingForCapacity) -> str:
    """Why the next batch waits, in one line."""
    if event.refused:
        return (
            f"batch {event.batch} refused (TooManyInvalidationsInProgress): "
            "another writer holds capacity"
        )
    return (
        f"batch {event.batch} waits for capacity: {event.in_progress_files:,} files "
        f"and {event.in_progress_wildcards} wildcards in progress"
    )


@attrs.define
class _Flight:
    """One invalidation of ours, sent and not yet seen ``Completed``."""

    id: str
    batch: int
    paths: int
    status: str
    since: dt.datetime


@attrs.define
class _Target:
    """
    What the live display knows of one distribution (or tenant), from its events.

    Attributes:
        name: The distribution or tenant id.
        started: When its first event came.
        total: Billable paths planned (``None`` until `Planned`, and for ``--wait-for``).
        done_paths: Paths of our batches seen ``Completed``.
        done_batches: Our batches seen ``Completed``.
        sent_paths: Paths of our batches CloudFront accepted.
        sent_batches: Batches CloudFront accepted.
        largest_batch: The most paths one accepted batch held.
        flights: Batch index -> our invalidation still in progress.
        durations: Seconds each of our completed invalidations took (creation to
            the poll that saw it done): what the ETA learns from.
        others: Other writers' invalidations seen in progress -> status.
        waiting: Why the next batch waits, while it does.
        retries: Calls retried so far.
        last_retry: The last retried call and its error, in one line.
        report: The report, once `Finished`.
    """

    name: str
    started: dt.datetime
    total: int | None = None
    done_paths: int = 0
    done_batches: int = 0
    sent_paths: int = 0
    sent_batches: int = 0
    largest_batch: int = 0
    flights: dict[int, _Flight] = attrs.Factory(dict)
    durations: list[float] = attrs.Factory(list)
    others: dict[str, str] = attrs.Factory(dict)
    waiting: str | None = None
    retries: int = 0
    last_retry: str | None = None
    report: InvalidationReport | None = None

    def apply(self, event: Event) -> None:
        """Take one event into account."""
        if isinstance(event, Planned):
            self.total = event.plan.billable
            self.started = event.time
        elif isinstance(event, WaitingForCapacity):
            self.waiting = _waiting_note(event)
        elif isinstance(event, Submitted):
            self._sent(event.batch, event.invalidation, event.time)
            self.waiting = None
        elif isinstance(event, Retrying):
            self.retries += 1
            self.last_retry = (
                f"{event.operation} (attempt {event.attempt}): {_short_error(event.error)}"
            )
        elif isinstance(event, Polled):
            self._polled(event)
        elif isinstance(event, Completed):
            self._completed(event)
        elif isinstance(event, Finished):
            self._finished(event.report)

    def _finished(self, report: InvalidationReport) -> None:
        """The report's figures replace what the events told."""
        self.report = report
        sent = [b for b in report.batches if b.invalidation is not None]
        done = [b for b in sent if b.is_completed]
        self.sent_batches, self.sent_paths = len(sent), sum(b.paths.quantity for b in sent)
        self.done_batches, self.done_paths = len(done), sum(b.paths.quantity for b in done)
        if self.total is not None:
            self.total = report.planned_paths
        self.retries = report.retries
        self.flights.clear()
        self.others.clear()
        self.waiting = None

    def _polled(self, event: Polled) -> None:
        ours = {f.id: f for f in self.flights.values()}
        for invalidation_id, status in event.statuses.items():
            if invalidation_id in ours:
                ours[invalidation_id].status = status.value
            elif status is InvalidationStatus.COMPLETED:
                self.others.pop(invalidation_id, None)
            else:
                self.others[invalidation_id] = status.value

    def _sent(self, batch: int, invalidation: Invalidation, at: dt.datetime) -> None:
        paths = invalidation.batch.paths.quantity
        self.flights[batch] = _Flight(invalidation.id, batch, paths, invalidation.status.value, at)
        self.sent_paths += paths
        self.sent_batches += 1
        self.largest_batch = max(self.largest_batch, paths)

    def _completed(self, event: Completed) -> None:
        self.waiting = None  # capacity changed: the next batch may go now, or says it waits
        if event.batch is None:  # another writer's, or one given to --wait-for
            self.others.pop(event.invalidation.id, None)
            if self.total is None:  # --wait-for: these are what the command waits for
                self.done_paths += event.invalidation.batch.paths.quantity
                self.done_batches += 1
            return
        if event.batch not in self.flights:  # an earlier run's batch, found again
            self._sent(event.batch, event.invalidation, event.time)
        flight = self.flights.pop(event.batch)
        self.done_paths += flight.paths
        self.done_batches += 1
        self.durations.append(event.seconds)

    def eta(self, now: dt.datetime) -> float | None:
        """
        Seconds left, learned from our completed invalidations; ``None`` before one completed.

        Each invalidation in flight is expected to take the mean duration
        learned so far (less its age); paths not sent yet go out in waves as
        large as what is in flight now (or the largest batch sent), the first
        when the earliest invalidation in flight completes, each taking the
        mean duration.
        """
        if not self.durations:
            return None
        mean = sum(self.durations) / len(self.durations)
        left = [max(0.0, mean - (now - f.since).total_seconds()) for f in self.flights.values()]
        unsent = max(0, (self.total or 0) - self.sent_paths)
        if not unsent:
            return max(left, default=0.0)
        wave = max(sum(f.paths for f in self.flights.values()), self.largest_batch, 1)
        waves = -(-unsent // wave)
        return max(max(left, default=0.0), min(left, default=0.0) + waves * mean)


#: In-flight invalidations listed per target; the rest are counted.
_MAX_ROWS = 8


class _View:
    """
    The live display's renderable: one block per target, drawn at the clock's time.

    Args:
        clock: The current time, aware UTC, to age invalidations and run the ETA.
    """

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self._clock = clock
        self._targets: dict[str, _Target] = {}
        # rich's refresh thread draws while the event loop's thread applies events.
        self._lock = threading.Lock()

    def apply(self, event: Event) -> None:
        """Take one event into account."""
        with self._lock:
            target = self._targets.get(event.distribution_id)
            if target is None:
                target = self._targets[event.distribution_id] = _Target(
                    event.distribution_id, started=event.time
                )
            target.apply(event)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        with self._lock:
            now = self._clock()
            blocks = [self._block(t, now) for t in self._targets.values()]
        yield from blocks

    def _block(self, target: _Target, now: dt.datetime) -> RenderableType:
        from rich.console import Group
        from rich.padding import Padding
        from rich.text import Text

        parts: list[RenderableType] = [self._headline(target, now)]
        left = max(0, (target.total or 0) - target.sent_paths)
        if target.total is None:  # --wait-for: invalidations made earlier, nothing planned
            batches = (
                f"invalidations: {target.done_batches} completed, {len(target.others)} in progress"
            )
        else:
            batches = f"batches: {target.sent_batches} sent, {target.done_batches} completed"
        if target.report is None and left:
            batches += f"; {left:,} paths still to send"
        parts.append(
            Padding(Text(batches, style="dim", no_wrap=True, overflow="ellipsis"), (0, 0, 0, 2))
        )
        if target.flights:
            parts.append(Padding(self._flights(target, now), (0, 0, 0, 2)))
        notes = []
        if target.waiting:
            notes.append(f"waiting: {target.waiting}")
        if target.others and target.total is not None:
            count = len(target.others)
            notes.append(
                f"other writers: {count} invalidation{'s' if count != 1 else ''} in progress"
            )
        if target.retries:
            notes.append(f"retries: {target.retries}, last {target.last_retry}")
        parts.extend(
            Padding(Text(n, style="yellow", no_wrap=True, overflow="ellipsis"), (0, 0, 0, 2))
            for n in notes
        )
        return Group(*parts)

    def _headline(self, target: _Target, now: dt.datetime) -> RenderableType:
        """Target, bar, paths done / planned, elapsed, then ETA or how it ended."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        report = target.report
        if report is not None:
            elapsed = report.elapsed
            if report.timed_out:
                state = "timed out"
            elif report.completed:
                state = "done"
            elif not report.waited and not report.unsent:
                state = "sent"
            else:
                state = "stopped"
        else:
            elapsed = (now - target.started).total_seconds()
            eta = target.eta(now)
            state = "ETA —" if eta is None else f"ETA {format_clock(math.ceil(eta))}"
        total = target.total
        if total is not None:
            counts = f"{target.done_paths:,}/{total:,} paths"
        else:
            counts = f"{target.done_paths:,} paths"
        if total == 0:  # nothing to send: nothing left to do
            bar = ProgressBar(total=1, completed=1)
        else:
            bar = ProgressBar(
                total=total, completed=target.done_paths, animation_time=now.timestamp()
            )
        line = Table.grid(expand=True, padding=(0, 1))
        line.add_column(no_wrap=True, overflow="ellipsis", style="bold")
        line.add_column(ratio=1, min_width=4)
        line.add_column(no_wrap=True, justify="right")
        line.add_column(no_wrap=True, justify="right")
        line.add_column(no_wrap=True)
        line.add_row(target.name, bar, f"{counts} ·", f"{format_clock(elapsed)} ·", state)
        return line

    def _flights(self, target: _Target, now: dt.datetime) -> RenderableType:
        from rich.table import Table

        table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
        table.add_column("in flight", no_wrap=True)
        table.add_column("batch", justify="right", no_wrap=True)
        table.add_column("paths", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("age", justify="right", no_wrap=True)
        flights = sorted(target.flights.values(), key=lambda f: f.batch)
        for flight in flights[:_MAX_ROWS]:
            age = format_clock((now - flight.since).total_seconds())
            table.add_row(flight.id, str(flight.batch), f"{flight.paths:,}", flight.status, age)
        if len(flights) > _MAX_ROWS:
            table.add_row(f"and {len(flights) - _MAX_ROWS} more", "", "", "", "")
        return table


class _Bar(Progress):
    """
    The live display (rich): per target, paths done, elapsed, ETA; what is in flight; what waits.

    Args:
        console: Where to draw (default: a console on stderr).
        clock: The current time, aware UTC, as the events' ``time`` reads it
            (default: the real clock); tests pass a fixed or virtual one.
        auto_refresh: Redraw four times a second (ages and the ETA move
            between events); tests turn it off and draw frames themselves.
    """

    def __init__(
        self,
        *,
        console: Console | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        auto_refresh: bool = True,
    ) -> None:
        from rich.console import Console
        from rich.live import Live

        self.view = _View(clock)
        self._live = Live(
            self.view,
            console=console if console is not None else Console(stderr=True),
            auto_refresh=auto_refresh,
            refresh_per_second=4,
            redirect_stdout=False,  # stdout carries the report, never the display
        )

    def __enter__(self) -> Progress:
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._live.stop()

    def __call__(self, event: Event) -> None:
        self.view.apply(event)
        if not isinstance(event, Polled):
            self._live.refresh()


def make_progress(kind: str, *, console: Console | None = None) -> Progress:
    """
    The display for ``--progress``.

    Args:
        kind: ``auto``, ``bar``, ``lines``, ``json`` or ``none``.
        console: Where ``bar`` draws (default: stderr).
    """
    if kind == "auto":
        kind = "bar" if sys.stderr.isatty() else "lines"
    if kind == "bar":
        try:
            return _Bar(console=console)
        except ImportError:
            return _Lines()  # rich is in the `cli` extra
    if kind == "lines":
        return _Lines()
    if kind == "json":
        return _JsonLines()
    return Progress()
