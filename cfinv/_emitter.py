"""
Event delivery: every progress event goes to the ``cfinv`` logger, to spans, and to ``on_event``.

The engine only ever calls `Emitter.emit`; what becomes of an event (a log
line with structured fields, an OpenTelemetry span, a callback, a progress
bar) is decided here, in one place.  Events never carry credentials, so
nothing delivered here can leak them.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Literal

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
from cfinv.telemetry import subscriber

if TYPE_CHECKING:
    from collections.abc import Callable

    from opentelemetry.trace import TracerProvider

    from cfinv.runtime import Runtime

__all__ = ["Emitter", "log_event", "log_fields"]

log = logging.getLogger("cfinv")


class Emitter:
    """
    Stamps events with the runtime's time, logs them, traces them, and hands them to ``on_event``.

    Args:
        runtime: Gives each event its ``time``.
        on_event: Called (or awaited) with every event; an exception it
            raises is logged, never propagated into the deploy.
        tracer_provider: Where spans go (see `cfinv.telemetry.subscriber`).
    """

    def __init__(
        self,
        runtime: Runtime,
        on_event: Callable[[Event], Any] | None = None,
        *,
        tracer_provider: TracerProvider | Literal[False] | None = None,
    ) -> None:
        self._runtime = runtime
        self._on_event = on_event
        self._tracing = subscriber(tracer_provider)

    async def emit(self, event: Event) -> None:
        """Deliver one event."""
        event = attrs.evolve(event, time=self._runtime.now())
        log_event(event)
        if self._tracing is not None:
            try:
                self._tracing(event)
            except Exception:
                log.exception("tracing failed on %s; going on", type(event).__name__)
        if self._on_event is None:
            return
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("on_event callback failed on %s; going on", type(event).__name__)


def log_fields(event: Event) -> dict[str, Any]:
    """
    The structured fields of an event's log record (``extra=``), all named ``cfinv_*``.

    The same facts as the spans' attributes (`cfinv.telemetry`): a log
    pipeline can filter on ``cfinv_batch`` or ``cfinv_invalidation_id``
    without parsing the message.
    """
    fields: dict[str, Any] = {
        "cfinv_event": type(event).__name__,
        "cfinv_distribution_id": event.distribution_id,
    }
    if isinstance(event, Planned):
        fields |= {
            "cfinv_paths": event.plan.input_count,
            "cfinv_billable": event.plan.billable,
            "cfinv_batches": event.batches,
        }
    elif isinstance(event, Submitted):
        paths = event.invalidation.batch.paths
        fields |= {
            "cfinv_batch": event.batch,
            "cfinv_invalidation_id": event.invalidation.id,
            "cfinv_caller_reference": event.invalidation.batch.caller_reference,
            "cfinv_files": paths.files,
            "cfinv_wildcards": paths.wildcards,
            "cfinv_attempts": event.attempts,
        }
    elif isinstance(event, WaitingForCapacity):
        fields |= {
            "cfinv_batch": event.batch,
            "cfinv_files": event.files,
            "cfinv_wildcards": event.wildcards,
            "cfinv_in_progress_files": event.in_progress_files,
            "cfinv_in_progress_wildcards": event.in_progress_wildcards,
            "cfinv_refused": event.refused,
        }
    elif isinstance(event, Retrying):
        fields |= {
            "cfinv_operation": event.operation,
            "cfinv_error": type(event.error).__name__,
            "cfinv_attempt": event.attempt,
            "cfinv_delay": event.delay,
            "cfinv_batch": event.batch,
        }
    elif isinstance(event, Polled):
        fields |= {"cfinv_operation": event.operation, "cfinv_polled": len(event.statuses)}
    elif isinstance(event, Completed):
        fields |= {
            "cfinv_batch": event.batch,
            "cfinv_invalidation_id": event.invalidation.id,
            "cfinv_seconds": event.seconds,
        }
    elif isinstance(event, Finished):
        report = event.report
        fields |= {
            "cfinv_batches": len(report.batches),
            "cfinv_pending": len(report.pending),
            "cfinv_retries": report.retries,
            "cfinv_elapsed": report.elapsed,
            "cfinv_timed_out": report.timed_out,
            "cfinv_error": None if event.error is None else type(event.error).__name__,
        }
    return fields


def log_event(event: Event) -> None:
    """The one place events become log lines (never with credentials: events hold none)."""
    dist = event.distribution_id
    extra = log_fields(event)
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
            extra=extra,
        )
    elif isinstance(event, Submitted):
        log.info(
            "%s: batch %d accepted as %s (%d paths, %d attempt(s))",
            dist,
            event.batch,
            event.invalidation.id,
            event.invalidation.batch.paths.quantity,
            event.attempts,
            extra=extra,
        )
    elif isinstance(event, WaitingForCapacity):
        log.info(
            "%s: batch %d waits for capacity (%d files, %d wildcards in progress)%s",
            dist,
            event.batch,
            event.in_progress_files,
            event.in_progress_wildcards,
            " after TooManyInvalidationsInProgress" if event.refused else "",
            extra=extra,
        )
    elif isinstance(event, Retrying):
        log.warning(
            "%s: %s failed (%s); retry %d in %.2fs",
            dist,
            event.operation,
            event.error,
            event.attempt,
            event.delay,
            extra=extra,
        )
    elif isinstance(event, Polled):
        log.debug("%s: %s -> %s", dist, event.operation, dict(event.statuses), extra=extra)
    elif isinstance(event, Completed):
        log.info(
            "%s: %s completed after %.1fs",
            dist,
            event.invalidation.id,
            event.seconds,
            extra=extra,
        )
    elif isinstance(event, Finished):
        report = event.report
        log.info(
            "%s: finished in %.1fs, %d/%d batches completed%s",
            dist,
            report.elapsed,
            len(report.batches) - len(report.pending),
            len(report.batches),
            " (timed out)" if report.timed_out else "",
            extra=extra,
        )
