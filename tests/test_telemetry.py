"""Specs for observability: OpenTelemetry spans from a run, and structured fields on log records."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cfinv import (
    CreatePacer,
    Event,
    Finished,
    Invalidator,
    NoSuchDistribution,
)
from cfinv.telemetry import BATCH_SPAN, CALL_SPAN, SPAN_ATTRIBUTES, subscriber
from cfinv.testing import CloudFrontEmulator, FaultKind, VirtualClock
from tests.conftest import PLAIN_HTTP, SESSION

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import AsyncIterator, Iterator

    from cfinv import InvalidationReport

LATENCY = 60.0


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    """A provider of the test's own, passed explicitly: the global one is never set."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


@pytest.fixture
async def emu(virtual: VirtualClock) -> AsyncIterator[CloudFrontEmulator]:
    async with CloudFrontEmulator(latency=LATENCY, runtime=virtual.runtime(seed=3)) as emulator:
        yield emulator


def invalidator(emu: CloudFrontEmulator, dist: str, **options: Any) -> Invalidator:
    defaults: dict[str, Any] = {
        "endpoint_url": emu.endpoint_url,
        "session": SESSION,
        "runtime": emu.runtime,
        "verify": PLAIN_HTTP,
    }
    return Invalidator(dist, **{**defaults, **options})


def ns(moment: dt.datetime | None) -> int:
    assert moment is not None
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def spans(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


# --- spans ---------------------------------------------------------------------------


async def test_spans_of_a_run_with_a_retry_and_a_capacity_wait(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """
    A call span, a child span per batch at the events' times, attributes, retry and wait events.

    Another writer holds 2,500 of the 3,000 files: batch 0 (500 files, throttled once)
    goes at once, batch 1 waits for capacity.
    """
    dist = emu.create_distribution()
    emu.create_invalidation(dist, [f"/other/{i}" for i in range(2500)], latency=30)
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation")
    report = await invalidator(emu, dist, tracer_provider=provider).invalidate(
        [f"/mine/{i}" for i in range(1000)]
    )
    assert report.completed

    (call,) = spans(exporter, CALL_SPAN)
    first, second = sorted(spans(exporter, BATCH_SPAN), key=lambda s: s.start_time or 0)
    assert None is parent_id(call)
    assert [call.context.span_id] * 2 == [parent_id(first), parent_id(second)]
    assert {call.context.trace_id} == {first.context.trace_id, second.context.trace_id}

    assert {
        "cfinv.distribution_id": dist,
        "cfinv.paths.input": 1000,
        "cfinv.paths.billable": 1000,
        "cfinv.batches": 2,
        "cfinv.batches.pending": 0,
        "cfinv.retries": 1,
        "cfinv.timed_out": False,
    } == dict(call.attributes or {})
    assert StatusCode.UNSET is call.status.status_code
    assert (ns(report.started_at), ns(report.finished_at)) == (call.start_time, call.end_time)

    for span, result in zip((first, second), report.batches, strict=True):
        assert result.invalidation is not None
        assert {
            "cfinv.distribution_id": dist,
            "cfinv.batch.index": result.index,
            "cfinv.batch.files": 500,
            "cfinv.batch.wildcards": 0,
            "cfinv.batch.attempts": result.attempts,
            "cfinv.batch.refusals": 0,
            "cfinv.caller_reference": result.caller_reference,
            "cfinv.invalidation_id": result.invalidation.id,
            "cfinv.invalidation.status": "Completed",
        } == dict(span.attributes or {})
        assert ns(result.completed_at) == span.end_time  # the span ends at Completed
        assert StatusCode.UNSET is span.status.status_code
    assert [2, 1] == [r.attempts for r in report.batches]

    # Batch 0: sent at once after planning; its retry is a span event.
    assert call.start_time == first.start_time
    (retry,) = first.events
    assert "cfinv.retry" == retry.name
    attributes = dict(retry.attributes or {})
    assert attributes.pop("aws.request_id")
    assert attributes.pop("cfinv.retry.delay") >= 0  # type: ignore[operator]
    assert attributes.pop("exception.message").startswith("CreateInvalidation: Throttling")  # type: ignore[union-attr]
    assert {
        "rpc.system": "aws-api",
        "rpc.service": "CloudFront",
        "rpc.method": "CreateInvalidation",
        "cfinv.retry.attempt": 1,
        "exception.type": "Throttling",
    } == attributes

    # Batch 1: its span opens with its wait for capacity, after batch 0 was accepted.
    (wait,) = second.events
    assert "cfinv.capacity_wait" == wait.name
    assert wait.timestamp == second.start_time
    assert ns(report.batches[0].submitted_at) <= second.start_time
    assert {
        "cfinv.batch.files": 500,
        "cfinv.batch.wildcards": 0,
        "cfinv.in_progress.files": 3000,
        "cfinv.in_progress.wildcards": 0,
        "cfinv.refused": False,
    } == dict(wait.attributes or {})
    assert call.events == ()


async def test_a_refused_batch_counts_its_refusals(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """TooManyInvalidationsInProgress: a refused capacity_wait event and a refusal count."""
    dist = emu.create_distribution()

    class Intruder(CreatePacer):
        """Fills the budget right before cfinv's first create (a writer discovery missed)."""

        intruded = False

        async def acquire(self) -> float:
            if not self.intruded:
                self.intruded = True
                emu.create_invalidation(dist, [f"/x/{i}" for i in range(3000)], latency=20)
            return await super().acquire()

    await invalidator(
        emu, dist, pacer=Intruder(runtime=emu.runtime), tracer_provider=provider
    ).invalidate(["/mine"])
    (batch,) = spans(exporter, BATCH_SPAN)
    assert 1 == (batch.attributes or {})["cfinv.batch.refusals"]
    refusals = [e for e in batch.events if (e.attributes or {}).get("cfinv.refused")]
    assert ["cfinv.capacity_wait"] == [e.name for e in refusals]


async def test_a_failed_call_has_the_error_status_and_the_exception(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """NoSuchDistribution: the call span is an error, records the exception; Finished has it."""
    events: list[Event] = []
    with pytest.raises(NoSuchDistribution) as info:
        await invalidator(
            emu, "ENOSUCHDIST1234", tracer_provider=provider, on_event=events.append
        ).invalidate(["/a"])
    (call,) = exporter.get_finished_spans()
    assert CALL_SPAN == call.name
    assert StatusCode.ERROR is call.status.status_code
    assert (call.status.description or "").startswith("NoSuchDistribution: ")
    (exception,) = call.events
    assert "exception" == exception.name
    assert "NoSuchDistribution" in str((exception.attributes or {})["exception.type"])
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert info.value is finished.error


async def test_a_timeout_marks_the_call_and_the_unfinished_batch(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A soft timeout: both spans end with the error status; the batch is still InProgress."""
    dist = emu.create_distribution()
    report = await invalidator(emu, dist, tracer_provider=provider).invalidate(
        ["/a"], timeout=20, raise_on_timeout=False
    )
    assert report.timed_out
    (call,) = spans(exporter, CALL_SPAN)
    (batch,) = spans(exporter, BATCH_SPAN)
    assert StatusCode.ERROR is call.status.status_code
    assert "timed out" in (call.status.description or "")
    assert StatusCode.ERROR is batch.status.status_code
    assert "InProgress" == (batch.attributes or {})["cfinv.invalidation.status"]
    assert call.end_time == batch.end_time
    assert (call.attributes or {})["cfinv.timed_out"]


async def test_concurrent_calls_keep_their_batches_apart(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Two calls on one Invalidator: each batch span is the child of its own call's span."""
    dist = emu.create_distribution()
    async with invalidator(emu, dist, tracer_provider=provider) as inv:
        reports = await asyncio.gather(inv.invalidate(["/a", "/b"]), inv.invalidate(["/c"]))
    calls = {s.context.span_id: s for s in spans(exporter, CALL_SPAN)}
    assert 2 == len(calls)
    for batch in spans(exporter, BATCH_SPAN):
        call = calls[parent_id(batch) or 0]
        assert (batch.attributes or {})["cfinv.batch.files"] == (call.attributes or {})[
            "cfinv.paths.input"
        ]
    expected = {r.batches[0].invalidation.id for r in reports}  # type: ignore[union-attr]
    assert expected == {
        (s.attributes or {})["cfinv.invalidation_id"] for s in spans(exporter, BATCH_SPAN)
    }


async def test_the_call_span_is_a_child_of_the_applications_span(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """An application's current span becomes the parent: cfinv's spans join its trace."""
    dist = emu.create_distribution()
    with provider.get_tracer("deploy").start_as_current_span("deploy") as outer:
        await invalidator(emu, dist, tracer_provider=provider).invalidate(["/a"])
    (call,) = spans(exporter, CALL_SPAN)
    assert outer.get_span_context().span_id == parent_id(call)
    assert outer.get_span_context().trace_id == call.context.trace_id


async def test_tracer_provider_false_records_nothing(
    emu: CloudFrontEmulator, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tracer_provider=False``: no spans, even with a global provider configured."""
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: pytest.fail("global provider used"))
    assert None is subscriber(tracer_provider=False)
    dist = emu.create_distribution()
    report = await invalidator(emu, dist, tracer_provider=False).invalidate(["/a"])
    assert report.completed
    assert () == exporter.get_finished_spans()


async def test_without_opentelemetry_a_run_works_and_records_nothing(
    emu: CloudFrontEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extra absent (the import fails): no subscriber, and the deploy goes on."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import opentelemetry -> ImportError
    assert None is subscriber()
    dist = emu.create_distribution()
    report = await invalidator(emu, dist).invalidate(["/a"])
    assert report.completed


def test_importing_and_running_cfinv_without_tracing_imports_no_opentelemetry() -> None:
    """``import cfinv`` imports no OpenTelemetry, nor does a run with ``tracer_provider=False``."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        import cfinv
        assert not [m for m in sys.modules if m.startswith("opentelemetry")], "on import"
        from cfinv.testing import CloudFrontEmulator, VirtualClock

        async def main():
            async with VirtualClock() as clock:
                async with CloudFrontEmulator(latency=5, runtime=clock.runtime()) as emu:
                    dist = emu.create_distribution()
                    inv = cfinv.Invalidator(
                        dist, endpoint_url=emu.endpoint_url, runtime=emu.runtime,
                        tracer_provider=False,
                    )
                    assert (await inv.invalidate(["/a"])).completed

        asyncio.run(main())
        assert not [m for m in sys.modules if m.startswith("opentelemetry")], "on a run"
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


async def test_every_attribute_set_is_documented(
    emu: CloudFrontEmulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    """The docs' table (`SPAN_ATTRIBUTES`) names every attribute the spans and events carry."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, [f"/o/{i}" for i in range(2500)], latency=30)
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation")
    await invalidator(emu, dist, tracer_provider=provider).invalidate(
        [*(f"/a/{i}" for i in range(1000)), "/b/*"], timeout=10, raise_on_timeout=False
    )
    used = {
        key
        for span in exporter.get_finished_spans()
        for attributes in (span.attributes, *(e.attributes for e in span.events))
        for key in (attributes or {})
    }
    assert set() == used - set(SPAN_ATTRIBUTES)


# --- log records ---------------------------------------------------------------------


async def test_log_records_carry_structured_fields(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Each event's record has ``cfinv_*`` fields: the batch, the invalidation, the attempts."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation")
    with caplog.at_level(logging.INFO, logger="cfinv"):
        report: InvalidationReport = await invalidator(emu, dist, tracer_provider=False).invalidate(
            ["/a", "/b/*"]
        )
    (result,) = report.batches
    assert result.invalidation is not None
    by_event = {getattr(r, "cfinv_event", None): r for r in caplog.records if r.name == "cfinv"}
    submitted = by_event["Submitted"]
    assert (dist, 0, result.invalidation.id, 1, 1, 2) == (
        submitted.cfinv_distribution_id,  # type: ignore[attr-defined]
        submitted.cfinv_batch,  # type: ignore[attr-defined]
        submitted.cfinv_invalidation_id,  # type: ignore[attr-defined]
        submitted.cfinv_files,  # type: ignore[attr-defined]
        submitted.cfinv_wildcards,  # type: ignore[attr-defined]
        submitted.cfinv_attempts,  # type: ignore[attr-defined]
    )
    retrying = by_event["Retrying"]
    assert ("CreateInvalidation", "Throttling", 1, 0) == (
        retrying.cfinv_operation,  # type: ignore[attr-defined]
        retrying.cfinv_error,  # type: ignore[attr-defined]
        retrying.cfinv_attempt,  # type: ignore[attr-defined]
        retrying.cfinv_batch,  # type: ignore[attr-defined]
    )
    completed = by_event["Completed"]
    assert (0, result.invalidation.id) == (
        completed.cfinv_batch,  # type: ignore[attr-defined]
        completed.cfinv_invalidation_id,  # type: ignore[attr-defined]
    )
    finished = by_event["Finished"]
    assert (1, 0, 1, False, None) == (
        finished.cfinv_batches,  # type: ignore[attr-defined]
        finished.cfinv_pending,  # type: ignore[attr-defined]
        finished.cfinv_retries,  # type: ignore[attr-defined]
        finished.cfinv_timed_out,  # type: ignore[attr-defined]
        finished.cfinv_error,  # type: ignore[attr-defined]
    )
    planned = by_event["Planned"]
    assert (2, 2) == (planned.cfinv_paths, planned.cfinv_billable)  # type: ignore[attr-defined]


async def test_a_capacity_wait_is_logged_with_its_fields(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """WaitingForCapacity's record: the batch, what is in progress, whether it was refused."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, [f"/other/{i}" for i in range(3000)], latency=30)
    with caplog.at_level(logging.INFO, logger="cfinv"):
        await invalidator(emu, dist, tracer_provider=False).invalidate(["/a"])
    (wait,) = [r for r in caplog.records if getattr(r, "cfinv_event", None) == "WaitingForCapacity"]
    assert (0, 1, 0, 3000, 0, False) == (
        wait.cfinv_batch,  # type: ignore[attr-defined]
        wait.cfinv_files,  # type: ignore[attr-defined]
        wait.cfinv_wildcards,  # type: ignore[attr-defined]
        wait.cfinv_in_progress_files,  # type: ignore[attr-defined]
        wait.cfinv_in_progress_wildcards,  # type: ignore[attr-defined]
        wait.cfinv_refused,  # type: ignore[attr-defined]
    )


def test_the_docs_table_lists_every_attribute() -> None:
    """docs/how-to/observability.md has a row for each name in `SPAN_ATTRIBUTES`."""
    page = (Path(__file__).parent.parent / "docs" / "how-to" / "observability.md").read_text()
    rows = {line.split("`")[1] for line in page.splitlines() if line.startswith("| `")}
    assert set() == set(SPAN_ATTRIBUTES) - rows
