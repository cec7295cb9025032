"""
Event delivery: every progress event goes to the ``cfinv`` logger and to the caller's ``on_event``.

The engine only ever calls `Emitter.emit`; what becomes of an event (a log
line, a callback, a progress bar) is decided here, in one place.  Events
never carry credentials, so nothing delivered here can leak them.
"""

from __future__ import annotations

import inspect
import logging
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

if TYPE_CHECKING:
    from collections.abc import Callable

    from cfinv.runtime import Runtime

__all__ = ["Emitter", "log_event"]

log = logging.getLogger("cfinv")


class Emitter:
    """
    Stamps events with the runtime's time, logs them, and hands them to ``on_event``.

    Args:
        runtime: Gives each event its ``time``.
        on_event: Called (or awaited) with every event; an exception it
            raises is logged, never propagated into the deploy.
    """

    def __init__(self, runtime: Runtime, on_event: Callable[[Event], Any] | None = None) -> None:
        self._runtime = runtime
        self._on_event = on_event

    async def emit(self, event: Event) -> None:
        """Deliver one event."""
        event = attrs.evolve(event, time=self._runtime.now())
        log_event(event)
        if self._on_event is None:
            return
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("on_event callback failed on %s; going on", type(event).__name__)


def log_event(event: Event) -> None:
    """The one place events become log lines (never with credentials: events hold none)."""
    dist = event.distribution_id
    if isinstance(event, Planned):
        plan = event.plan
        log.info(
            "%s: %d paths -> %d billable in about %d batches (%d duplicates, %d covered dropped)",
            dist,
            plan.input_count,
            plan.billable,
            len(plan.batches),
            plan.duplicates_dropped,
            plan.covered_dropped,
        )
    elif isinstance(event, Submitted):
        log.info(
            "%s: batch %d accepted as %s (%d paths, %d attempt(s))",
            dist,
            event.batch,
            event.invalidation.id,
            event.invalidation.batch.paths.quantity,
            event.attempts,
        )
    elif isinstance(event, WaitingForCapacity):
        log.info(
            "%s: batch %d waits for capacity (%d files, %d wildcards in progress)%s",
            dist,
            event.batch,
            event.in_progress_files,
            event.in_progress_wildcards,
            " after TooManyInvalidationsInProgress" if event.refused else "",
        )
    elif isinstance(event, Retrying):
        log.warning(
            "%s: %s failed (%s); retry %d in %.2fs",
            dist,
            event.operation,
            event.error,
            event.attempt,
            event.delay,
        )
    elif isinstance(event, Polled):
        log.debug("%s: %s -> %s", dist, event.operation, dict(event.statuses))
    elif isinstance(event, Completed):
        log.info("%s: %s completed after %.1fs", dist, event.invalidation.id, event.seconds)
    elif isinstance(event, Finished):
        report = event.report
        log.info(
            "%s: finished in %.1fs, %d/%d batches completed%s",
            dist,
            report.elapsed,
            len(report.batches) - len(report.pending),
            len(report.batches),
            " (timed out)" if report.timed_out else "",
        )
