"""
OpenTelemetry traces of what cfinv does, for applications that export them.

With the ``otel`` extra (``pip install "cfinv[otel]"``, which adds only
``opentelemetry-api``), every `cfinv.Invalidator` records, through the
tracer provider the application configured (none: nothing is recorded):

* a span ``cfinv.invalidate`` per ``invalidate()`` call, from planning to the
  report, with the error status when the call fails or times out;
* a child span ``cfinv.batch`` per batch, from when the call turns to it
  (waiting for capacity, or packing it at once) to ``Completed``;
* span events ``cfinv.retry`` and ``cfinv.capacity_wait`` for retries and
  capacity waits (on the batch's span, or on the call's for polls and discovery).

The spans are made from the progress events (`cfinv.events`), at the events'
times, so they agree with them (and, in tests, with a virtual clock).  Pass
``tracer_provider=`` to `cfinv.Invalidator` to use another provider, or
``False`` to record nothing.  Without the extra, nothing here imports
OpenTelemetry, and cfinv records no spans.

The attribute names are in `SPAN_ATTRIBUTES`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

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

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["BATCH_SPAN", "CALL_SPAN", "SPAN_ATTRIBUTES", "Tracing", "subscriber"]

#: The span of one ``invalidate()`` call.
CALL_SPAN = "cfinv.invalidate"
#: The span of one batch, a child of its call's.
BATCH_SPAN = "cfinv.batch"

#: Every attribute cfinv sets, with what it holds (the docs' table is this one).
SPAN_ATTRIBUTES: dict[str, str] = {
    "cfinv.distribution_id": "the distribution (or tenant) id; on both spans",
    "cfinv.paths.input": "paths given to invalidate(); call span",
    "cfinv.paths.billable": "paths to send after planning; call span",
    "cfinv.batches": "batches in the report; call span",
    "cfinv.batches.pending": "batches not completed (or not sent) at the end; call span",
    "cfinv.retries": "retried calls, all operations; call span",
    "cfinv.timed_out": "whether the timeout passed first; call span",
    "cfinv.batch.index": "the batch's index (batches are numbered as sent); batch span",
    "cfinv.batch.files": "file paths in the batch; batch span and capacity_wait events",
    "cfinv.batch.wildcards": "wildcard paths in the batch; batch span and capacity_wait events",
    "cfinv.batch.attempts": "CreateInvalidation calls the accepted create took; batch span",
    "cfinv.batch.refusals": "TooManyInvalidationsInProgress refusals of the batch; batch span",
    "cfinv.caller_reference": "the batch's CallerReference; batch span",
    "cfinv.invalidation_id": "the invalidation CloudFront created; batch span",
    "cfinv.invalidation.status": "its last known status (Completed, InProgress); batch span",
    "cfinv.in_progress.files": "file paths in progress when the wait began; capacity_wait",
    "cfinv.in_progress.wildcards": "wildcard paths in progress then; capacity_wait",
    "cfinv.refused": "whether CloudFront refused the batch; capacity_wait",
    "cfinv.retry.attempt": "the attempt that failed (1 for the first call); retry",
    "cfinv.retry.delay": "seconds until the next attempt; retry",
    "rpc.system": '"aws-api"; retry',
    "rpc.service": '"CloudFront"; retry',
    "rpc.method": "the operation that failed, e.g. CreateInvalidation; retry",
    "aws.request_id": "the failed request's id, when CloudFront answered; retry",
    "exception.type": "the cfinv error's class; retry",
    "exception.message": "its message; retry",
}

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _ns(moment: dt.datetime) -> int:
    """An aware datetime as OpenTelemetry's nanoseconds since the epoch (exact, no float)."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def subscriber(tracer_provider: TracerProvider | Literal[False] | None = None) -> Tracing | None:
    """
    The event subscriber that records spans, or ``None`` when there is nothing to record to.

    Args:
        tracer_provider: The provider; ``None`` for OpenTelemetry's global one
            (if ``opentelemetry-api`` is installed), ``False`` for no tracing
            (OpenTelemetry is then not imported).
    """
    if tracer_provider is False:
        return None
    try:
        from opentelemetry import trace  # deferred: an optional, heavy import
    except ImportError:
        return None
    from importlib.metadata import version

    tracer = trace.get_tracer("cfinv", version("cfinv"), tracer_provider=tracer_provider)
    return Tracing(tracer)


@attrs.define
class _Batch:
    span: Span
    refusals: int = 0
    ended: bool = False


@attrs.define
class _Call:
    owner: Tracing
    span: Span
    mark: int  # when the call last moved on (planned, or a batch accepted): a batch starts here
    batches: dict[int, _Batch] = attrs.Factory(dict)
    token: contextvars.Token[_Call | None] | None = None
    ended: bool = False


#: The call whose events the current task emits.  Set when `Planned` is emitted
#: (in the ``invalidate()`` task), inherited by the tasks the call starts.
_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("cfinv_call", default=None)


class Tracing:
    """
    Turns one Invalidator's events into spans; call it with every event, in order.

    `cfinv.Invalidator` makes one for itself (see `subscriber`); there is
    no need to pass it as ``on_event``.

    Args:
        tracer: Where the spans go.
    """

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        #: Invalidation id -> its batch (and call): `Completed` may come from the poller's task.
        self._created: dict[str, tuple[_Call, _Batch]] = {}

    def __call__(self, event: Event) -> None:
        """Record one event."""
        if isinstance(event, Planned):
            self._planned(event)
            return
        call = _CALL.get()
        if isinstance(event, Completed):
            self._completed(event)
        elif call is None or call.owner is not self or call.ended:
            return  # not during one of this Invalidator's calls (wait(), say)
        elif isinstance(event, WaitingForCapacity):
            self._waiting(call, event)
        elif isinstance(event, Retrying):
            self._retrying(call, event)
        elif isinstance(event, Submitted):
            self._submitted(call, event)
        elif isinstance(event, Finished):
            self._finished(call, event)

    def _planned(self, event: Planned) -> None:
        plan = event.plan
        span = self._tracer.start_span(
            CALL_SPAN,
            start_time=_ns(event.time),
            attributes={
                "cfinv.distribution_id": event.distribution_id,
                "cfinv.paths.input": plan.input_count,
                "cfinv.paths.billable": plan.billable,
            },
        )
        call = _Call(self, span, mark=_ns(event.time))
        call.token = _CALL.set(call)

    def _batch(self, call: _Call, index: int, distribution_id: str, start: int) -> _Batch:
        batch = call.batches.get(index)
        if batch is None:
            from opentelemetry import trace

            span = self._tracer.start_span(
                BATCH_SPAN,
                context=trace.set_span_in_context(call.span),
                start_time=start,
                attributes={"cfinv.distribution_id": distribution_id, "cfinv.batch.index": index},
            )
            batch = call.batches[index] = _Batch(span)
        return batch

    def _waiting(self, call: _Call, event: WaitingForCapacity) -> None:
        at = _ns(event.time)
        # A wait before packing opens the batch's span; a refusal comes after a send.
        start = call.mark if event.refused else at
        batch = self._batch(call, event.batch, event.distribution_id, start)
        if event.refused:
            batch.refusals += 1
            batch.span.set_attribute("cfinv.batch.refusals", batch.refusals)
        batch.span.add_event(
            "cfinv.capacity_wait",
            {
                "cfinv.batch.files": event.files,
                "cfinv.batch.wildcards": event.wildcards,
                "cfinv.in_progress.files": event.in_progress_files,
                "cfinv.in_progress.wildcards": event.in_progress_wildcards,
                "cfinv.refused": event.refused,
            },
            timestamp=at,
        )

    def _retrying(self, call: _Call, event: Retrying) -> None:
        error = event.error
        attributes: dict[str, Any] = {
            "rpc.system": "aws-api",
            "rpc.service": "CloudFront",
            "rpc.method": event.operation,
            "cfinv.retry.attempt": event.attempt,
            "cfinv.retry.delay": event.delay,
            "exception.type": type(error).__name__,
            "exception.message": str(error),
        }
        request_id = getattr(error, "request_id", None)
        if isinstance(request_id, str) and request_id:
            attributes["aws.request_id"] = request_id
        if event.batch is None:
            span = call.span
        else:
            span = self._batch(call, event.batch, event.distribution_id, call.mark).span
        span.add_event("cfinv.retry", attributes, timestamp=_ns(event.time))

    def _submitted(self, call: _Call, event: Submitted) -> None:
        invalidation = event.invalidation
        paths = invalidation.batch.paths
        batch = self._batch(call, event.batch, event.distribution_id, call.mark)
        batch.span.set_attributes(
            {
                "cfinv.batch.files": paths.files,
                "cfinv.batch.wildcards": paths.wildcards,
                "cfinv.batch.attempts": event.attempts,
                "cfinv.batch.refusals": batch.refusals,
                "cfinv.caller_reference": invalidation.batch.caller_reference,
                "cfinv.invalidation_id": invalidation.id,
                "cfinv.invalidation.status": invalidation.status.value,
            }
        )
        call.mark = _ns(event.time)
        self._created[invalidation.id] = (call, batch)

    def _completed(self, event: Completed) -> None:
        found = self._created.pop(event.invalidation.id, None)
        if found is None:
            return  # another writer's, or one created before this call
        _, batch = found
        if not batch.ended:
            batch.ended = True
            batch.span.set_attribute("cfinv.invalidation.status", event.invalidation.status.value)
            batch.span.end(end_time=_ns(event.time))

    def _finished(self, call: _Call, event: Finished) -> None:
        from opentelemetry.trace import StatusCode

        report, at = event.report, _ns(event.time)
        failure: str | None = None
        if event.error is not None:
            failure = f"{type(event.error).__name__}: {event.error}"
            call.span.record_exception(event.error, timestamp=at)
        elif report.timed_out:
            failure = f"timed out with {len(report.pending)} batch(es) not completed"
        elif report.waited and report.pending:
            failure = f"stopped with {len(report.pending)} batch(es) not completed"
        for batch in call.batches.values():
            if batch.ended:
                continue
            batch.ended = True
            if failure is not None:
                batch.span.set_status(StatusCode.ERROR, f"not completed: {failure}")
            batch.span.end(end_time=at)
        self._created = {k: v for k, v in self._created.items() if v[0] is not call}
        call.span.set_attributes(
            {
                "cfinv.batches": len(report.batches),
                "cfinv.batches.pending": len(report.pending),
                "cfinv.retries": report.retries,
                "cfinv.timed_out": report.timed_out,
            }
        )
        if failure is not None:
            call.span.set_status(StatusCode.ERROR, failure)
        call.ended = True
        call.span.end(end_time=at)
        if call.token is not None:
            try:
                _CALL.reset(call.token)
            except ValueError:  # emitted from another context than Planned: just forget it
                _CALL.set(None)
