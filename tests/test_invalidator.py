"""Specs for the Invalidator, over real HTTP against the emulator (and moto's server)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import random
import time
from typing import TYPE_CHECKING, Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from cfinv import (
    AccessDenied,
    CallerReferenceConflict,
    CreatePacer,
    Event,
    InvalidateManyError,
    InvalidationStatus,
    InvalidationTimeout,
    Invalidator,
    InvalidatorClosed,
    InvalidPathError,
    Limits,
    NoSuchDistribution,
    NoSuchInvalidation,
    Polled,
    PollPolicy,
    Retrying,
    RetryPolicy,
    ServiceUnavailable,
    Submitted,
    Throttling,
    WaitingForCapacity,
    invalidate_many,
)
from cfinv._packing import RequestCap
from cfinv.testing import ApiError, CloudFrontEmulator, FaultKind, VirtualClock
from tests.conftest import PLAIN_HTTP, SESSION

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from types_aiobotocore_cloudfront import CloudFrontClient

    from cfinv import InvalidationReport

# For the few tests that run on real time (a real read timeout, moto's server, a
# thread emulator): polls every 20 ms, so they wait for small real latencies.
FAST_POLL = PollPolicy(first=0.02, min_interval=0.02, max_interval=0.1)
FAST_RETRY = RetryPolicy(initial=0.01, max_backoff=0.05, deadline=5)

#: Every other test runs on a VirtualClock with CloudFront's own figures: a
#: minute of latency, the default poll schedule, retry policy and create pacer.
LATENCY = 60.0


def invalidator(emu: CloudFrontEmulator, dist: str, **options: Any) -> Invalidator:
    """An Invalidator that owns its client, pointed at the emulator, on the emulator's runtime."""
    defaults: dict[str, Any] = {
        "endpoint_url": emu.endpoint_url,
        "session": SESSION,
        "runtime": emu.runtime,
        "verify": PLAIN_HTTP,
    }
    return Invalidator(dist, **{**defaults, **options})


def real_time_invalidator(emu: CloudFrontEmulator, dist: str, **options: Any) -> Invalidator:
    """An Invalidator on real time, polling fast, for an emulator on real time."""
    fast = {"poll": FAST_POLL, "retry": FAST_RETRY, "pacer": CreatePacer(100.0, 20)}
    return invalidator(emu, dist, **{**fast, **options})


def created_per_batch(emu: CloudFrontEmulator, dist: str) -> collections.Counter[str]:
    return collections.Counter(i.batch.caller_reference for i in emu.invalidations(dist))


def errors_answered(emu: CloudFrontEmulator) -> collections.Counter[str]:
    return collections.Counter(c.error_code for c in emu.calls if c.error_code)


@pytest.fixture
async def emu(virtual: VirtualClock) -> AsyncIterator[CloudFrontEmulator]:
    """An emulator on virtual time: a minute of latency, CloudFront's limits and create rate."""
    async with CloudFrontEmulator(latency=LATENCY, runtime=virtual.runtime(seed=3)) as emulator:
        yield emulator


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks still running besides the test, leaving out the emulator's own server tasks."""
    current = asyncio.current_task()
    return {
        t
        for t in asyncio.all_tasks()
        if t is not current
        and not t.done()
        and not t.get_coro().__qualname__.startswith("RequestHandler")  # type: ignore[union-attr]
    }


# --- the happy path ------------------------------------------------------------------


async def test_invalidate_plans_sends_and_waits(emu: CloudFrontEmulator) -> None:
    """One call: paths cleaned up, one batch sent, Completed when it returns."""
    dist = emu.create_distribution()
    events: list[Event] = []
    report = await invalidator(emu, dist, on_event=events.append).invalidate(
        ["index.html", "/img/*", "/img/logo.png", "/index.html", "/docs/café menu.pdf"]
    )
    assert report.completed
    assert not report.timed_out
    (batch,) = report.batches
    assert batch.paths.items == ("/docs/caf%C3%A9%20menu.pdf", "/index.html", "/img/*")
    assert batch.invalidation is not None
    assert batch.invalidation.status is InvalidationStatus.COMPLETED
    assert batch.submitted_at is not None
    assert batch.completed_at is not None
    assert batch.submitted_at <= batch.completed_at
    assert batch.caller_reference.startswith("cfinv-")
    assert (report.input_count, report.duplicates_dropped, report.covered_dropped) == (5, 1, 1)
    assert report.billable == 3
    assert report.api_calls["CreateInvalidation"] == 1
    assert report.retries == 0
    (created,) = emu.invalidations(dist)
    assert created.batch.paths.items == batch.paths.items
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Planned"
    assert kinds[-1] == "Finished"
    assert kinds.index("Submitted") < kinds.index("Completed")
    assert "Polled" in kinds
    assert other_tasks() == set()  # no poller or request left running


async def test_async_event_callback_and_logging(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """An async on_event is awaited; events also go to the `cfinv` logger."""
    dist = emu.create_distribution()
    seen: list[str] = []

    async def on_event(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(type(event).__name__)

    with caplog.at_level(logging.INFO, logger="cfinv"):
        await invalidator(emu, dist, on_event=on_event).invalidate(["/a"])
    assert seen[0] == "Planned"
    assert seen[-1] == "Finished"
    assert any("accepted as" in r.getMessage() for r in caplog.records)
    assert any("finished in" in r.getMessage() for r in caplog.records)


async def test_a_failing_event_callback_does_not_break_the_deploy(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in a progress display is logged, and the invalidation still completes."""
    dist = emu.create_distribution()

    def broken(_event: Event) -> None:
        raise ValueError("display crashed")

    report = await invalidator(emu, dist, on_event=broken).invalidate(["/a"])
    assert report.completed
    assert any("on_event callback failed" in r.getMessage() for r in caplog.records)


async def test_more_than_the_budget_is_scheduled_without_refusals(emu: CloudFrontEmulator) -> None:
    """7,000 files and 31 wildcards: every batch completes, none is refused, never over budget."""
    dist = emu.create_distribution()
    paths = [f"/f/{i}.html" for i in range(7000)] + [f"/w{i:02d}/*" for i in range(31)]
    events: list[Event] = []
    report = await invalidator(emu, dist, on_event=events.append).invalidate(paths)
    assert report.completed
    assert len(report.batches) == 3
    assert errors_answered(emu) == {}
    assert set(created_per_batch(emu, dist).values()) == {1}
    # At no time were two full batches in progress together.
    created = emu.invalidations(dist)
    for earlier, later in itertools.pairwise(created):
        assert later.create_time >= earlier.complete_time
    assert any(isinstance(e, WaitingForCapacity) and not e.refused for e in events)


async def test_small_batches_run_in_parallel(emu: CloudFrontEmulator) -> None:
    """Batches that fit together are in progress at the same time."""
    dist = emu.create_distribution()
    limits = Limits(files=10)
    report = await invalidator(emu, dist, limits=limits).invalidate(
        [f"/p{i}" for i in range(25)]  # three batches: 10 + 10 + 5
    )
    assert report.completed
    starts = sorted(i.create_time for i in emu.invalidations(dist))
    assert len(starts) == 3
    # With files=10 the emulator (3,000) would take them all at once; cfinv's own
    # limits keep one at a time.
    first, second, third = emu.invalidations(dist)
    assert second.create_time >= first.complete_time
    assert third.create_time >= second.complete_time


def peak_in_progress(emu: CloudFrontEmulator, dist: str) -> tuple[int, int]:
    """The most (files, wildcards) the distribution ever had in progress, from its history."""
    invalidations = emu.invalidations(dist)
    peak = (0, 0)
    for moment in (i.create_time for i in invalidations):
        running = [i for i in invalidations if i.create_time <= moment < i.complete_time]
        files = sum(i.batch.paths.files for i in running)
        wildcards = sum(i.batch.paths.wildcards for i in running)
        peak = (max(peak[0], files), max(peak[1], wildcards))
    return peak


async def test_another_writer_holding_capacity_is_discovered(emu: CloudFrontEmulator) -> None:
    """Invalidations in progress are found first: what is free goes now, the rest later."""
    dist = emu.create_distribution()
    other = emu.create_invalidation(dist, [f"/other/{i}" for i in range(2500)], latency=30)
    events: list[Event] = []
    report = await invalidator(emu, dist, on_event=events.append).invalidate(
        [f"/mine/{i}" for i in range(1000)]
    )
    assert report.completed
    assert errors_answered(emu) == {}  # never refused: the other writer was counted
    first, second = (i for i in emu.invalidations(dist) if i.id != other.id)
    assert first.batch.paths.files == 500  # what was free, at once
    assert first.create_time < other.complete_time
    assert second.create_time >= other.complete_time
    waits = [e for e in events if isinstance(e, WaitingForCapacity)]
    assert [(w.batch, w.in_progress_files, w.refused) for w in waits] == [(1, 3000, False)]
    assert peak_in_progress(emu, dist) == (3000, 0)


async def test_capacity_taken_after_discovery_is_waited_for(emu: CloudFrontEmulator) -> None:
    """TooManyInvalidationsInProgress from an unseen writer: the batch waits and retries."""
    dist = emu.create_distribution()

    class Intruder(CreatePacer):
        """Lets another writer fill the budget right before cfinv's first create."""

        intruded = False

        async def acquire(self) -> float:
            if not self.intruded:
                self.intruded = True
                emu.create_invalidation(dist, [f"/x/{i}" for i in range(3000)], latency=20)
            return await super().acquire()

    events: list[Event] = []
    report = await invalidator(
        emu, dist, pacer=Intruder(runtime=emu.runtime), on_event=events.append
    ).invalidate(["/mine"])
    assert report.completed
    assert errors_answered(emu) == {"TooManyInvalidationsInProgress": 1}
    assert any(isinstance(e, WaitingForCapacity) and e.refused for e in events)
    assert created_per_batch(emu, dist)[report.batches[0].caller_reference] == 1


async def test_concurrent_calls_share_the_budget(emu: CloudFrontEmulator) -> None:
    """Two invalidate() calls on one Invalidator never overfill the distribution."""
    dist = emu.create_distribution()
    async with invalidator(emu, dist) as inv:
        first, second = await asyncio.gather(
            inv.invalidate([f"/a/{i}" for i in range(2000)]),
            inv.invalidate([f"/b/{i}" for i in range(2000)]),
        )
    assert first.completed
    assert second.completed
    assert errors_answered(emu) == {}
    assert peak_in_progress(emu, dist) == (3000, 0)
    assert first.billable + second.billable == 4000


# --- faults and idempotency -------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        FaultKind.THROTTLE,
        FaultKind.INTERNAL_ERROR,
        FaultKind.SERVICE_UNAVAILABLE,
        FaultKind.RESET_BEFORE,
        FaultKind.RESET_AFTER,
    ],
)
async def test_create_faults_are_retried_and_never_duplicate(
    emu: CloudFrontEmulator, kind: FaultKind
) -> None:
    """Each fault kind on CreateInvalidation: retried with the same reference, one invalidation."""
    dist = emu.create_distribution()
    emu.inject(kind, operation="CreateInvalidation", count=2)
    events: list[Event] = []
    report = await invalidator(emu, dist, on_event=events.append).invalidate(["/a", "/b"])
    assert report.completed
    assert len(emu.invalidations(dist)) == 1
    assert report.batches[0].attempts == 3
    assert report.retries >= 2
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [e.attempt for e in retries[:2]] == [1, 2]
    assert all(e.operation == "CreateInvalidation" for e in retries[:2])
    references = {c.invalidation_id for c in emu.calls if c.operation == "CreateInvalidation"}
    assert len(references - {None}) == 1


async def test_delayed_reply_is_retried_without_duplicate() -> None:
    """A reply slower than the read timeout: retried, and the retry gets the same invalidation."""
    async with CloudFrontEmulator(latency=0.05, rate_limits=None) as emu:
        dist = emu.create_distribution()
        emu.inject(FaultKind.DELAY, operation="CreateInvalidation", delay=0.5)
        # Real time: the client's read timeout is a real one, and fires before the delay ends.
        inv = real_time_invalidator(emu, dist, config=AioConfig(read_timeout=0.2))
        report = await inv.invalidate(["/a"])
        assert report.completed
        assert len(emu.invalidations(dist)) == 1
        assert report.batches[0].attempts == 2


async def test_caller_reference_conflict_on_retry_resolves_to_the_earlier_invalidation(
    virtual: VirtualClock,
) -> None:
    """Lost reply + a CloudFront that answers the conflict even for the same batch."""
    async with CloudFrontEmulator(
        latency=LATENCY, replay_identical=False, runtime=virtual.runtime()
    ) as emu:
        dist = emu.create_distribution()
        emu.inject(FaultKind.RESET_AFTER, operation="CreateInvalidation")
        report = await invalidator(emu, dist).invalidate(["/a"])
        (created,) = emu.invalidations(dist)
        assert report.completed
        assert report.invalidations[0].id == created.id
        assert errors_answered(emu) == {"InvalidArgument": 1}


async def test_poll_faults_are_retried(emu: CloudFrontEmulator) -> None:
    """Throttled or failing status calls are retried too."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.SERVICE_UNAVAILABLE, operation="GetInvalidation", count=2)
    emu.inject(FaultKind.THROTTLE, operation="GetInvalidation")
    report = await invalidator(emu, dist).invalidate(["/a"])
    assert report.completed
    assert report.retries == 3


async def test_random_faults_soak(emu: CloudFrontEmulator) -> None:
    """A seeded 30% fault rate on every call: still exactly one invalidation per batch."""
    dist = emu.create_distribution()
    emu.inject_random(
        0.3,
        seed=5,
        kinds=[
            FaultKind.THROTTLE,
            FaultKind.SERVICE_UNAVAILABLE,
            FaultKind.RESET_BEFORE,
            FaultKind.RESET_AFTER,
        ],
    )
    retry = RetryPolicy(attempts=30, deadline=600)
    report = await invalidator(emu, dist, retry=retry, limits=Limits(files=50)).invalidate(
        [f"/p/{i}" for i in range(400)]
    )
    assert report.completed
    assert len(report.batches) == 8
    counts = created_per_batch(emu, dist)
    assert sorted(counts) == sorted(b.caller_reference for b in report.batches)
    assert set(counts.values()) == {1}
    assert report.retries > 0


async def test_retry_schedule_uses_full_jitter_and_the_deadline(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """On virtual time, the pauses follow the policy and stop at the deadline."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation", count=50)
    retries: list[Retrying] = []
    policy = RetryPolicy(attempts=50, initial=1, max_backoff=8, deadline=30)
    inv = invalidator(
        emu,
        dist,
        retry=policy,
        pacer=CreatePacer(1000, 1000, runtime=emu.runtime),
        on_event=lambda e: retries.extend([e] if isinstance(e, Retrying) else []),
    )
    started = virtual.elapsed
    with pytest.raises(Throttling):
        await inv.invalidate(["/a"])
    pauses = [e.delay for e in retries]
    assert pauses
    for n, pause in enumerate(pauses, start=1):
        assert 0 <= pause <= min(8, 2 ** (n - 1))
    assert sum(pauses) <= 30
    # Virtual time passed exactly as the pauses say, and the server saw the attempts.
    assert virtual.elapsed - started == pytest.approx(sum(pauses))
    creates = [c for c in emu.calls if c.operation == "CreateInvalidation"]
    assert len(creates) == len(pauses) + 1
    assert emu.invalidations(dist) == ()


# --- failing fast -----------------------------------------------------------------------


async def test_no_paths_make_no_call(emu: CloudFrontEmulator) -> None:
    """An empty change list is a complete, empty report, and no call."""
    report = await invalidator(emu, emu.create_distribution()).invalidate([])
    assert report.completed
    assert report.batches == ()
    assert emu.calls == ()


async def test_invalid_paths_send_nothing(emu: CloudFrontEmulator) -> None:
    """An invalid path stops everything before the first call."""
    dist = emu.create_distribution()
    with pytest.raises(InvalidPathError) as info:
        await invalidator(emu, dist).invalidate(["/ok", "/bad*path", ""])
    assert set(info.value.paths) == {"/bad*path", ""}
    assert emu.calls == ()


async def test_unknown_distribution_fails_fast(emu: CloudFrontEmulator) -> None:
    """NoSuchDistribution is not retried: one call, a typed error naming the code."""
    with pytest.raises(NoSuchDistribution, match="distribution ENOSUCHDIST1234"):
        await invalidator(emu, "ENOSUCHDIST1234").invalidate(["/a"])
    assert len(emu.calls) == 1


async def test_bad_credentials_fail_fast_without_leaking_them(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Wrong secret: AccessDenied family, one call, and the secret appears nowhere."""
    dist = emu.create_distribution()
    secret = "s3cr3t-value-that-must-not-leak"
    session = AioSession()
    session.set_credentials("testing", secret)
    inv = invalidator(emu, dist, session=session)
    with caplog.at_level(logging.DEBUG, logger="cfinv"), pytest.raises(AccessDenied) as info:
        await inv.invalidate(["/a"])
    assert info.value.code == "SignatureDoesNotMatch"
    assert len(emu.calls) == 1
    assert secret not in repr(inv)
    assert secret not in str(info.value)
    assert all(secret not in r.getMessage() for r in caplog.records)


# --- timeouts, waiting, cancellation ---------------------------------------------------------


async def test_timeout_raises_with_a_partial_report(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """The timeout ends the wait; the exception carries what was created."""
    dist = emu.create_distribution()
    started = virtual.elapsed
    with pytest.raises(InvalidationTimeout) as info:
        await invalidator(emu, dist).invalidate(["/a"], timeout=20)
    assert virtual.elapsed - started == pytest.approx(20)
    report = info.value.report
    assert report is not None
    assert report.timed_out
    assert not report.completed
    (created,) = emu.invalidations(dist)
    assert [created.id] == [i.id for i in report.invalidations]
    assert isinstance(info.value, TimeoutError)


async def test_timeout_during_a_create_still_reports_what_it_created(
    emu: CloudFrontEmulator,
) -> None:
    """A create cut off by the timeout after CloudFront acted is found and reported, not lost."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.DELAY, operation="CreateInvalidation", delay=10)
    inv = invalidator(emu, dist)
    report = await inv.invalidate(["/a"], timeout=4, raise_on_timeout=False)
    (created,) = emu.invalidations(dist)
    assert report.timed_out
    assert [created.id] == [i.id for i in report.invalidations]
    assert [created.id] == [i.id for i in inv.submitted]
    assert report.unsent == ()


async def test_soft_timeout_returns_the_partial_report_and_wait_resumes(
    emu: CloudFrontEmulator,
) -> None:
    """raise_on_timeout=False returns the report; wait(ids) picks up where it stopped."""
    dist = emu.create_distribution()
    async with invalidator(emu, dist, limits=Limits(files=2)) as inv:
        report = await inv.invalidate(["/a", "/b", "/c"], timeout=20, raise_on_timeout=False)
        assert report.timed_out
        assert len(report.unsent) == 1  # the second batch never fitted
        ids = [i.id for i in report.invalidations]
        emu.complete()
        done = await inv.wait(ids, timeout=5)
        # The timed-out call did not spoil the invalidations for later calls.
        again = await inv.invalidate(["/c"], wait=False, timeout=5)
    assert [i.id for i in done] == ids
    assert all(i.is_completed for i in done)
    assert len(again.invalidations) == 1


async def test_wait_false_returns_after_submission(emu: CloudFrontEmulator) -> None:
    """wait=False: accepted, not waited for; a later wait() finishes the job."""
    dist = emu.create_distribution()
    async with invalidator(emu, dist) as inv:
        report = await inv.invalidate(["/a"], wait=False)
        assert not report.waited
        (invalidation,) = report.invalidations
        assert invalidation.status is InvalidationStatus.IN_PROGRESS
        (done,) = await inv.wait([invalidation.id])
        assert done.is_completed
        assert inv.submitted[0].is_completed


async def test_wait_on_invalidations_created_elsewhere(emu: CloudFrontEmulator) -> None:
    """wait(ids) follows invalidations another process created."""
    dist = emu.create_distribution()
    elsewhere = emu.create_invalidation(dist, ["/x"], latency=90)
    done = await invalidator(emu, dist).wait([elsewhere.id])
    assert [elsewhere.id] == [i.id for i in done]
    assert done[0].is_completed


async def test_wait_on_an_unknown_id_names_it(emu: CloudFrontEmulator) -> None:
    """An unknown invalidation id is a typed error, not a hang."""
    dist = emu.create_distribution()
    with pytest.raises(
        NoSuchInvalidation, match=f"distribution {dist}, invalidation INOSUCHINVALID"
    ):
        await invalidator(emu, dist).wait(["INOSUCHINVALID"])


@pytest.mark.parametrize(
    ("seconds", "turns"),
    # Virtual seconds, then event-loop turns: points between and inside requests.
    [(0, 0), (0, 3), (0, 10), (0, 30), (1, 0), (30, 5), (61, 0), (61, 7), (125, 2), (150, 0)],
)
async def test_cancellation_at_any_point_leaves_nothing_behind(
    emu: CloudFrontEmulator,
    virtual: VirtualClock,
    caplog: pytest.LogCaptureFixture,
    seconds: float,
    turns: int,
) -> None:
    """Cancelled mid-way: no task left, the client closed, nothing created goes unnamed."""
    dist = emu.create_distribution()
    events: list[Event] = []
    inv = invalidator(emu, dist, limits=Limits(files=2), on_event=events.append)
    task = asyncio.create_task(inv.invalidate([f"/p{i}" for i in range(6)]))
    await virtual.sleep(seconds)
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with caplog.at_level(logging.WARNING, logger="cfinv"), pytest.raises(asyncio.CancelledError):
        await task
    assert other_tasks() == set()
    assert not inv._engine.gateway.is_open
    created = emu.invalidations(dist)
    submitted = {i.id for i in inv.submitted}
    assert {e.invalidation.id for e in events if isinstance(e, Submitted)} == submitted
    # What a plain cancellation cut short in its create is not looked up (that is for
    # timeouts and closes); its CallerReference is in a warning, to find it by.
    warned = " ".join(r.getMessage() for r in caplog.records)
    for invalidation in created:
        assert invalidation.id in submitted or invalidation.batch.caller_reference in warned


async def test_closed_invalidator_refuses_more_work(emu: CloudFrontEmulator) -> None:
    """Using an Invalidator after its `async with` ended is a clear error."""
    dist = emu.create_distribution()
    async with invalidator(emu, dist) as inv:
        await inv.invalidate(["/a"])
    with pytest.raises(InvalidatorClosed, match="closed"):
        await inv.invalidate(["/b"])
    assert "closed" in repr(inv)


# --- clients, tenants, several distributions ------------------------------------------------------


async def test_a_passed_client_is_used_and_never_closed(emu: CloudFrontEmulator) -> None:
    """Cfinv leaves a caller's client open and working."""
    dist = emu.create_distribution()
    async with SESSION.create_client("cloudfront", **emu.client_kwargs()) as client:
        cf: CloudFrontClient = client
        report = await Invalidator(dist, client=cf, runtime=emu.runtime).invalidate(["/a"])
        assert report.completed
        listed = await cf.list_invalidations(DistributionId=dist)
        assert listed["InvalidationList"]["Quantity"] == 1


def test_client_and_client_options_are_exclusive() -> None:
    """Passing a client and options to build one is a mistake, said at once."""
    with pytest.raises(ValueError, match="either client"):
        Invalidator("E1", client=object(), endpoint_url="http://x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distribution_id"):
        Invalidator("  ")


async def test_distribution_tenant(emu: CloudFrontEmulator) -> None:
    """for_distribution_tenant() uses the ...ForDistributionTenant operations."""
    tenant = emu.create_distribution_tenant()
    inv = Invalidator.for_distribution_tenant(
        tenant, endpoint_url=emu.endpoint_url, session=SESSION, runtime=emu.runtime
    )
    report = await inv.invalidate(["/t"])
    assert report.completed
    assert len(emu.tenant_invalidations(tenant)) == 1
    assert {c.operation for c in emu.calls} == {
        "ListInvalidationsForDistributionTenant",
        "CreateInvalidationForDistributionTenant",
        "GetInvalidationForDistributionTenant",
    }


async def test_invalidate_many_shares_client_and_pacer(emu: CloudFrontEmulator) -> None:
    """Several distributions at once, one report each."""
    first, second = emu.create_distribution(), emu.create_distribution()
    reports = await invalidate_many(
        {first: ["/a", "/b"], second: ["/*"]},
        endpoint_url=emu.endpoint_url,
        session=SESSION,
        runtime=emu.runtime,
    )
    assert set(reports) == {first, second}
    assert all(r.completed for r in reports.values())
    assert reports[second].batches[0].paths.items == ("/*",)


async def test_invalidate_many_reports_failures_with_the_successes(emu: CloudFrontEmulator) -> None:
    """One bad distribution does not stop the others; the error carries both."""
    good = emu.create_distribution()
    with pytest.raises(InvalidateManyError) as info:
        await invalidate_many(
            {good: ["/a"], "ENOSUCHDIST1234": ["/a"]},
            endpoint_url=emu.endpoint_url,
            session=SESSION,
            runtime=emu.runtime,
        )
    assert set(info.value.reports) == {good}
    assert isinstance(info.value.errors["ENOSUCHDIST1234"], NoSuchDistribution)


async def test_pacing_keeps_under_the_create_rate(emu: CloudFrontEmulator) -> None:
    """Twelve distributions at once on the default pacer: paced, not one Throttling."""
    targets = {emu.create_distribution(): [f"/p{i}"] for i in range(12)}
    reports = await invalidate_many(
        targets, endpoint_url=emu.endpoint_url, session=SESSION, runtime=emu.runtime
    )
    assert all(report.completed for report in reports.values())
    assert errors_answered(emu) == {}
    creates = [c.time for c in emu.calls if c.operation == "CreateInvalidation"]
    # A burst of five, then one every two seconds.
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(creates)]
    assert gaps[:4] == [0, 0, 0, 0]
    assert all(gap >= 2 - 1e-6 for gap in gaps[4:])


async def test_throttling_burst_from_elsewhere_is_absorbed(emu: CloudFrontEmulator) -> None:
    """Another tool drains the account's rate: cfinv backs off and finishes."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation", count=4)
    report = await invalidator(emu, dist, limits=Limits(files=1)).invalidate(
        [f"/p{i}" for i in range(6)]
    )
    assert report.completed
    assert set(created_per_batch(emu, dist).values()) == {1}
    assert errors_answered(emu)["Throttling"] == 4


# --- robustness: concurrency, lifecycle, event loops ------------------------------------------


async def test_failing_polls_do_not_strand_other_calls(emu: CloudFrontEmulator) -> None:
    """Status calls failing past the retry policy postpone polling; nobody hangs or fails."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.SERVICE_UNAVAILABLE, operation="GetInvalidation", count=3)
    emu.inject(FaultKind.SERVICE_UNAVAILABLE, operation="ListInvalidations", count=1)
    retry = RetryPolicy(attempts=2, initial=0.01, max_backoff=0.01, deadline=1)
    async with invalidator(emu, dist, retry=retry) as inv:
        first, second = await emu.runtime.wait_for(
            asyncio.gather(inv.invalidate(["/a"]), inv.invalidate(["/b"])), 600
        )
    assert first.completed
    assert second.completed


async def test_slow_event_callback_cut_by_timeout_leaks_no_budget(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """A timeout during a slow on_event leaves the budget whole for the next call."""
    dist = emu.create_distribution()

    async def slow(event: Event) -> None:
        if isinstance(event, Submitted):
            await virtual.sleep(50)

    async with invalidator(emu, dist, on_event=slow, limits=Limits(files=2)) as inv:
        report = await inv.invalidate(["/a", "/b"], timeout=20, raise_on_timeout=False)
        assert len(report.invalidations) == 1  # created before the callback was cut off
        again = await inv.invalidate(["/c", "/d"], timeout=600)
    assert again.completed


async def test_concurrent_first_calls_open_one_client(emu: CloudFrontEmulator) -> None:
    """Without `async with`, simultaneous first calls share one client, closed at the end."""
    dist = emu.create_distribution()
    opened: list[object] = []

    class CountingSession(AioSession):
        def create_client(self, *args: Any, **kwargs: Any) -> Any:
            opened.append(args)
            return super().create_client(*args, **kwargs)

    inv = invalidator(emu, dist, session=CountingSession())
    reports = await asyncio.gather(*(inv.invalidate([f"/{n}"]) for n in range(3)))
    assert all(r.completed for r in reports)
    assert len(opened) == 1
    assert not inv._engine.gateway.is_open


@pytest.mark.parametrize("stage", ["discovery", "create", "waiting"])
async def test_leaving_async_with_fails_a_running_call_at_once(
    emu: CloudFrontEmulator, virtual: VirtualClock, stage: str
) -> None:
    """A call running when its `async with` ends fails at once, with what it created."""
    dist = emu.create_distribution()
    if stage == "discovery":  # the ListInvalidations reply is held back for ten minutes
        emu.inject(FaultKind.DELAY, operation="ListInvalidations", delay=600)
    elif stage == "create":  # created at once, the reply held back for ten minutes
        emu.inject(FaultKind.DELAY, operation="CreateInvalidation", delay=600)
    inv = invalidator(emu, dist)
    async with inv:
        task = asyncio.create_task(inv.invalidate(["/a", "/b"]))
        await virtual.sleep(10)  # the call is inside its request, or waiting for completion
        assert not task.done()
        calls_before = len(emu.calls)
        closing_at, real_start = virtual.elapsed, time.monotonic()
    with pytest.raises(InvalidatorClosed) as info:
        await task
    assert virtual.elapsed - closing_at < 0.1
    assert time.monotonic() - real_start < 5  # generous: what counts is that nothing waited
    report = info.value.report
    assert report is not None
    created = [i.id for i in emu.invalidations(dist)]
    assert [i.id for i in report.invalidations] == created
    assert [i.id for i in info.value.invalidations] == created
    assert created == ([] if stage == "discovery" else created[:1])
    # No retry on a closed client: after the close, only a create in doubt was looked up.
    after = [c.operation for c in emu.calls[calls_before:]]
    assert set(after) <= ({"ListInvalidations", "GetInvalidation"} if stage == "create" else set())
    assert other_tasks() <= {t for t in other_tasks() if "cfinv" not in t.get_name()}
    assert not inv._engine.gateway.is_open


async def test_aclose_fails_running_calls_and_refuses_new_ones(emu: CloudFrontEmulator) -> None:
    """aclose() without `async with`: the running call fails, later calls are refused."""
    dist = emu.create_distribution()
    inv = invalidator(emu, dist)
    task = asyncio.create_task(inv.invalidate(["/a"]))
    await emu.runtime.sleep(5)
    await inv.aclose()
    with pytest.raises(InvalidatorClosed) as info:
        await task
    assert len(info.value.invalidations) == 1
    with pytest.raises(InvalidatorClosed):
        await inv.wait(["IANY"])
    await inv.aclose()  # twice is harmless
    assert "closed" in repr(inv)


async def test_conflict_with_other_paths_on_retry_is_not_mistaken_for_success(
    emu: CloudFrontEmulator,
) -> None:
    """A reused reference whose invalidation holds other paths is a conflict, even on a retry."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, ["/x"], caller_reference="release-42")
    emu.inject(FaultKind.SERVICE_UNAVAILABLE, operation="CreateInvalidation")
    inv = invalidator(emu, dist, caller_reference=lambda _: "release-42")
    with pytest.raises(CallerReferenceConflict, match="release-42"):
        await inv.invalidate(["/y"])
    assert [i.batch.paths.items for i in emu.invalidations(dist)] == [("/x",)]


def test_an_invalidator_and_pacer_survive_several_event_loops() -> None:
    """Kept across asyncio.run() calls (as in a module-level object), they keep working."""
    with CloudFrontEmulator(latency=0.05, rate_limits=None) as emu:
        dist = emu.create_distribution()
        pacer = CreatePacer(100.0, 1)
        inv = Invalidator(
            dist, endpoint_url=emu.endpoint_url, session=SESSION, poll=FAST_POLL, pacer=pacer
        )
        for n in range(3):
            report = asyncio.run(inv.invalidate([f"/{n}", f"/{n}b"]))
            assert report.completed
            async_wait = inv.invalidate([f"/w{n}"], wait=False)
            (submitted,) = asyncio.run(async_wait).invalidations
            (done,) = asyncio.run(inv.wait([submitted.id]))
            assert done.is_completed


# --- packing at send time, adapting to the endpoint, other writers, failing well -------------


async def test_a_stricter_endpoint_is_learned_and_every_path_sent_once(
    virtual: VirtualClock,
) -> None:
    """413 above 3,000 paths per request: batches split, the cap kept for the next call."""
    limits = Limits(paths_per_request=3000)
    async with CloudFrontEmulator(latency=LATENCY, limits=limits, runtime=virtual.runtime()) as emu:
        dist = emu.create_distribution()
        paths = [f"/f/{i}" for i in range(7000)] + [f"/w{i:02d}/*" for i in range(20)]
        async with invalidator(emu, dist) as inv:
            report = await inv.invalidate(paths)
            refused_before = errors_answered(emu)["BatchTooLarge"]
            again = await inv.invalidate([f"/g/{i}" for i in range(3500)])
        assert report.completed
        assert again.completed
        sent = [p for i in emu.invalidations(dist) for p in i.batch.paths.items]
        assert sorted(sent) == sorted([*paths, *(f"/g/{i}" for i in range(3500))])  # each once
        assert refused_before == 1  # one 413, then 3,000 was tried and taken
        assert errors_answered(emu)["BatchTooLarge"] == 1  # the next call knew the cap
        assert max(i.batch.paths.quantity for i in emu.invalidations(dist)) == 3000


async def test_a_cap_set_up_front_is_never_exceeded(emu: CloudFrontEmulator) -> None:
    """Limits(paths_per_request=...) cuts every batch to it: no 413 at all."""
    dist = emu.create_distribution()
    limits = Limits(paths_per_request=1000)
    report = await invalidator(emu, dist, limits=limits).invalidate(
        [f"/f/{i}" for i in range(2500)]
    )
    assert report.completed
    assert [b.paths.quantity for b in report.batches] == [1000, 1000, 500]
    assert errors_answered(emu) == {}


async def test_a_writer_that_keeps_creating_does_not_starve_a_deploy(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """Another writer creates 300 files every half-latency: the deploy still completes."""
    dist = emu.create_distribution()
    stop = asyncio.Event()

    async def other_writer() -> None:
        n = 0
        while not stop.is_set():
            with contextlib.suppress(ApiError):  # refused when full: it tries again later
                emu.create_invalidation(dist, [f"/other/{n}/{i}" for i in range(300)])
            n += 1
            await virtual.sleep(LATENCY / 2)

    writer = asyncio.create_task(other_writer())
    try:
        report = await invalidator(emu, dist).invalidate(
            [f"/mine/{i}" for i in range(3000)] + [f"/w{i:02d}/*" for i in range(15)],
            timeout=900,
        )
    finally:
        stop.set()
        await writer
    assert report.completed
    mine = [i for i in emu.invalidations(dist) if not i.batch.caller_reference.startswith("other")]
    assert sum(i.batch.paths.quantity for i in mine) == 3015
    assert errors_answered(emu)["TooManyInvalidationsInProgress"] <= 3
    assert report.elapsed < 4 * LATENCY


async def test_discovery_finds_a_writer_below_150_newer_completed_ones(
    emu: CloudFrontEmulator,
) -> None:
    """An in-progress invalidation under a page and a half of completed ones is still found."""
    dist = emu.create_distribution()
    buried = emu.create_invalidation(dist, [f"/old/{i}" for i in range(2900)], latency=600)
    for n in range(150):
        emu.create_invalidation(dist, [f"/done/{n}"], latency=0)
    events: list[Event] = []
    report = await invalidator(emu, dist, on_event=events.append).invalidate(
        [f"/mine/{i}" for i in range(500)]
    )
    assert report.completed
    assert errors_answered(emu) == {}  # never refused: the budget knew of it
    assert any(isinstance(e, WaitingForCapacity) and e.in_progress_files == 2900 for e in events)
    # 100 files free is under a tenth of the budget: not worth a create; it waited.
    (mine,) = [i for i in emu.invalidations(dist) if i.batch.paths.items[0].startswith("/m")]
    assert mine.batch.paths.files == 500
    assert mine.create_time >= buried.complete_time


async def test_a_call_that_fails_for_good_sends_nothing_more_and_reports_what_it_made(
    emu: CloudFrontEmulator,
) -> None:
    """503s past the retry policy on the second batch: the error lists the first, no third."""
    dist = emu.create_distribution()
    retry = RetryPolicy(attempts=3, deadline=60)
    inv = invalidator(emu, dist, retry=retry, limits=Limits(files=10))
    events: list[Event] = []

    def fail_second_batch(event: Event) -> None:
        events.append(event)
        if isinstance(event, Submitted) and event.batch == 0:
            emu.inject(FaultKind.SERVICE_UNAVAILABLE, operation="CreateInvalidation", count=3)

    inv = invalidator(emu, dist, retry=retry, limits=Limits(files=10), on_event=fail_second_batch)
    with pytest.raises(ServiceUnavailable) as info:
        await inv.invalidate([f"/p{i}" for i in range(30)])
    report = info.value.report
    assert report is not None
    (created,) = emu.invalidations(dist)
    assert [i.id for i in report.invalidations] == [created.id]
    assert len(report.unsent) == 2  # the second and third batches' paths, never sent
    assert sum(b.paths.quantity for b in report.batches) == 30
    creates = [c for c in emu.calls if c.operation == "CreateInvalidation"]
    assert len(creates) == 1 + 3  # nothing after the failure


async def test_a_lost_reply_before_a_failure_is_found_and_reported(
    emu: CloudFrontEmulator,
) -> None:
    """Created, reply lost, then 503s to the end: the error still lists the invalidation."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.RESET_AFTER, operation="CreateInvalidation")
    emu.inject(FaultKind.SERVICE_UNAVAILABLE, operation="CreateInvalidation", count=5)
    inv = invalidator(emu, dist, retry=RetryPolicy(attempts=3, deadline=60))
    with pytest.raises(ServiceUnavailable) as info:
        await inv.invalidate(["/a", "/b"])
    (created,) = emu.invalidations(dist)
    assert info.value.report is not None
    assert [i.id for i in info.value.report.invalidations] == [created.id]
    assert info.value.report.unsent == ()
    assert [i.id for i in inv.submitted] == [created.id]


async def test_polling_with_a_list_adopts_a_writer_before_colliding(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """A new writer seen in a ListInvalidations poll is counted: a later batch is not refused."""
    dist = emu.create_distribution()
    events: list[Event] = []

    async def other_writer() -> None:
        await virtual.sleep(10)  # after cfinv's first two batches are out
        emu.create_invalidation(dist, [f"/other/{i}" for i in range(900)], latency=120)

    async with invalidator(emu, dist, on_event=events.append) as inv:

        async def later() -> InvalidationReport:
            await virtual.sleep(30)  # cfinv polled its two in-flight ones since
            return await inv.invalidate([f"/c/{i}" for i in range(1000)])

        writer = asyncio.create_task(other_writer())
        reports = await asyncio.gather(
            inv.invalidate([f"/a/{i}" for i in range(1000)]),
            inv.invalidate([f"/b/{i}" for i in range(1000)]),
            later(),
        )
        await writer
    assert all(r.completed for r in reports)
    assert "TooManyInvalidationsInProgress" not in errors_answered(emu)
    lists = [e for e in events if isinstance(e, Polled) and e.operation == "ListInvalidations"]
    assert len(lists) >= 2  # the two in flight were polled together
    waits = [e for e in events if isinstance(e, WaitingForCapacity)]
    assert waits
    assert waits[0].in_progress_files == 2900  # the other writer counted before any refusal


async def test_another_writers_share_is_used_while_it_runs_and_the_moment_it_ends(
    emu: CloudFrontEmulator,
) -> None:
    """1,200 files of another team: 1,800 go at once, the rest as soon as capacity frees."""
    dist = emu.create_distribution()
    other = emu.create_invalidation(dist, [f"/other/{i}" for i in range(1200)], latency=66)
    paths = [f"/mine/{i}" for i in range(6857)] + [f"/w{i}/*" for i in range(4)]
    report = await invalidator(emu, dist).invalidate(paths)
    assert report.completed
    assert errors_answered(emu) == {}
    mine = [i for i in emu.invalidations(dist) if i.id != other.id]
    assert (mine[0].batch.paths.files, mine[0].batch.paths.wildcards) == (1800, 4)
    # The other writer's 1,200 went back into use within a moment of its end.
    (after,) = [i for i in mine if i.batch.paths.files == 1200]
    assert 0 <= (after.create_time - other.complete_time).total_seconds() < 0.05 * LATENCY
    assert peak_in_progress(emu, dist) == (3000, 4)
    # Fixed batches of 3,000 took 1.66 times the fluid bound here; packing at send time
    # comes within 15 % of it.
    bound = (6857 * LATENCY + 1200 * 66) / 3000
    assert report.elapsed <= 1.15 * bound


async def test_concurrent_calls_count_their_own_calls(emu: CloudFrontEmulator) -> None:
    """Each report counts its own creates and retries, not the other call's."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation", count=1)
    async with invalidator(emu, dist, limits=Limits(files=10)) as inv:
        small, large = await asyncio.gather(
            inv.invalidate(["/a"]), inv.invalidate([f"/b{i}" for i in range(25)])
        )
    creates = [c for c in emu.calls if c.operation == "CreateInvalidation"]
    # Every create is counted once, in the report of the call that made it.
    assert small.api_calls["CreateInvalidation"] + large.api_calls["CreateInvalidation"] == len(
        creates
    )
    for report in (small, large):
        retried = report.retries
        assert report.api_calls["CreateInvalidation"] == len(report.invalidations) + retried
    assert small.retries + large.retries == 1


# --- what a second reader found ------------------------------------------------------------


async def test_a_rerun_with_the_same_caller_references_gets_the_earlier_invalidations(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """caller_reference=build-based: a re-run creates nothing, though batches are cut at send."""
    dist = emu.create_distribution()
    paths = [f"/s{i}/*" for i in range(10)] + ["/index.html"]
    first = await invalidator(emu, dist, caller_reference=lambda i: f"build-1234-{i}").invalidate(
        paths, wait=False
    )
    await virtual.sleep(5)  # the first is still in progress
    again = await invalidator(emu, dist, caller_reference=lambda i: f"build-1234-{i}").invalidate(
        paths
    )
    assert again.completed
    assert [i.id for i in again.invalidations] == [i.id for i in first.invalidations]
    assert all(b.resumed for b in again.batches)
    assert "CreateInvalidation" not in again.api_calls
    assert len(emu.invalidations(dist)) == 1


async def test_a_broken_caller_reference_function_is_a_clear_error_and_leaks_nothing(
    emu: CloudFrontEmulator,
) -> None:
    """A function that gives an empty reference fails the call; later calls still run."""
    dist = emu.create_distribution()

    def reference(index: int) -> str:
        return "" if index == 1 else f"deploy-42-{index}"

    async with invalidator(emu, dist, caller_reference=reference, limits=Limits(files=10)) as inv:
        with pytest.raises(ValueError, match=r"caller_reference\(1\) must give a non-empty"):
            await inv.invalidate([f"/p{i}" for i in range(20)])
        assert inv._engine.budget.files <= 10  # only the first batch, which was created
    later = await invalidator(emu, dist).invalidate(["/x"], timeout=600)
    assert later.completed


async def test_a_cap_learned_down_to_one_path_still_delivers(virtual: VirtualClock) -> None:
    """An endpoint taking one path per request: batches shrink to one, and the cap is kept."""
    limits = Limits(paths_per_request=1)
    async with CloudFrontEmulator(latency=LATENCY, limits=limits, runtime=virtual.runtime()) as emu:
        dist = emu.create_distribution()
        async with invalidator(emu, dist) as inv:
            first = await inv.invalidate(["/a", "/b", "/c"])
            assert inv._engine.cap.size == 1
            second = await inv.invalidate(["/d", "/e"])
        assert first.completed
        assert second.completed
        assert [b.paths.quantity for b in (*first.batches, *second.batches)] == [1] * 5
        assert errors_answered(emu)["BatchTooLarge"] == 1  # 3 paths refused; 1 tried, and kept


def test_a_request_cap_never_learns_from_a_single_path() -> None:
    """A refusal of one path says that path is too large, not that requests are capped."""
    cap = RequestCap(Limits())
    with pytest.raises(ValueError, match="1 path"):
        cap.was_refused(1)
    assert cap.size is None


async def test_aclose_from_an_event_callback_closes_everything(emu: CloudFrontEmulator) -> None:
    """Closing from inside the call's own callback: the call fails, nothing is left open."""
    dist = emu.create_distribution()
    holder: dict[str, Invalidator] = {}

    async def on_event(event: Event) -> None:
        if isinstance(event, Submitted):
            await holder["inv"].aclose()

    inv = holder["inv"] = invalidator(emu, dist, on_event=on_event)
    with pytest.raises(InvalidatorClosed) as info:
        await inv.invalidate(["/a"])
    assert info.value.report is not None
    assert len(info.value.report.invalidations) == 1
    assert not inv._engine.gateway.is_open
    assert other_tasks() == set()


async def test_a_cancelled_create_logs_its_caller_reference(
    emu: CloudFrontEmulator, virtual: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelled while the create is out: the CallerReference is in a warning, to find it by."""
    dist = emu.create_distribution()
    emu.inject(FaultKind.DELAY, operation="CreateInvalidation", delay=60)
    task = asyncio.create_task(invalidator(emu, dist).invalidate(["/a"]))
    await virtual.sleep(10)
    task.cancel()
    with caplog.at_level(logging.WARNING, logger="cfinv"), pytest.raises(asyncio.CancelledError):
        await task
    (created,) = emu.invalidations(dist)
    assert any(created.batch.caller_reference in r.getMessage() for r in caplog.records)


async def test_a_refused_retry_of_a_lost_reply_is_not_sent_twice(virtual: VirtualClock) -> None:
    """An endpoint that checks its limits before the CallerReference: no second invalidation."""
    async with CloudFrontEmulator(
        latency=LATENCY, limits_first=True, runtime=virtual.runtime()
    ) as emu:
        dist = emu.create_distribution()
        emu.inject(FaultKind.RESET_AFTER, operation="CreateInvalidation")
        report = await invalidator(emu, dist).invalidate([f"/p{i}" for i in range(3000)])
        assert report.completed
        (created,) = emu.invalidations(dist)
        assert [i.id for i in report.invalidations] == [created.id]
        assert errors_answered(emu) == {"TooManyInvalidationsInProgress": 1}


# --- a deploy id: exactly once across restarts ------------------------------------------------


def test_a_deploy_id_is_checked_with_a_clear_error() -> None:
    """Characters a CallerReference should not carry, or too long: a ValueError naming it."""
    for bad in ["", "has space", "a:b", "x" * 65, "café"]:
        with pytest.raises(ValueError, match="invalid deploy id"):
            Invalidator("E1", deploy_id=bad)
    with pytest.raises(ValueError, match="either caller_reference= or deploy_id="):
        Invalidator("E1", deploy_id="run-1", caller_reference=lambda i: f"x{i}")
    Invalidator("E1", deploy_id="github-1234567890-deploy.web_2")


async def test_a_rerun_after_success_creates_nothing(emu: CloudFrontEmulator) -> None:
    """The same deploy again: no create, and the report lists the deploy's invalidations."""
    dist = emu.create_distribution()
    paths = [f"/f/{i}" for i in range(4000)] + ["/img/*"]
    first = await invalidator(emu, dist, deploy_id="run-7").invalidate(paths)
    again = await invalidator(emu, dist, deploy_id="run-7").invalidate(paths)
    assert first.completed
    assert again.completed
    assert "CreateInvalidation" not in again.api_calls
    assert [i.id for i in again.invalidations] == [i.id for i in first.invalidations]
    assert all(b.resumed for b in again.batches)
    assert again.billable == first.billable
    assert all(":run-7:" in b.caller_reference for b in first.batches)
    # Another deploy id is another deploy: it sends again.
    other = await invalidator(emu, dist, deploy_id="run-8").invalidate(["/f/1"])
    assert other.api_calls["CreateInvalidation"] == 1


async def test_a_rerun_sends_only_what_the_earlier_run_did_not_cover(
    emu: CloudFrontEmulator,
) -> None:
    """Paths sent before, or under a wildcard sent before, are not sent again."""
    dist = emu.create_distribution()
    await invalidator(emu, dist, deploy_id="run-9").invalidate(["/a", "/img/*", "#Tag"])
    again = await invalidator(emu, dist, deploy_id="run-9").invalidate(
        ["/a", "/img/logo.png", "/b", "#tag", "/img/*"]
    )
    new = [b for b in again.batches if not b.resumed]
    assert [b.paths.items for b in new] == [("/b",)]


@pytest.mark.parametrize("seed", range(6))
async def test_a_deploy_cut_short_anywhere_is_completed_exactly_once_by_a_rerun(
    emu: CloudFrontEmulator, virtual: VirtualClock, seed: int
) -> None:
    """Cancelled at a random moment, then run again: every path in exactly one invalidation."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, [f"/other/{i}" for i in range(1200)], latency=70)
    paths = [f"/p/{i}" for i in range(3500)] + [f"/w{i}/*" for i in range(20)]
    rng = random.Random(seed)
    task = asyncio.create_task(invalidator(emu, dist, deploy_id="ci-42").invalidate(paths))
    await virtual.sleep(rng.uniform(0, 200))
    for _ in range(rng.randrange(20)):
        await asyncio.sleep(0)  # inside a request, sometimes
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    report = await invalidator(emu, dist, deploy_id="ci-42").invalidate(paths)
    assert report.completed
    mine = [i for i in emu.invalidations(dist) if ":ci-42:" in i.batch.caller_reference]
    sent = collections.Counter(p for i in mine for p in i.batch.paths.items)
    assert set(sent.values()) <= {1}  # nothing twice
    assert sorted(sent) == sorted(paths)  # nothing lost
    assert sorted(i.id for i in report.invalidations) == sorted(i.id for i in mine)


async def test_a_rerun_waits_for_what_the_earlier_run_left_in_progress(
    emu: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """An earlier run's invalidation still running is followed, and counted in the budget."""
    dist = emu.create_distribution()
    first = await invalidator(emu, dist, deploy_id="d1").invalidate(
        [f"/a/{i}" for i in range(3000)], wait=False
    )
    started = virtual.elapsed
    events: list[Event] = []
    again = await invalidator(emu, dist, deploy_id="d1", on_event=events.append).invalidate(
        [f"/a/{i}" for i in range(3000)] + ["/b"]
    )
    assert again.completed
    assert again.batches[0].resumed
    assert again.batches[0].invalidation is not None
    assert again.batches[0].invalidation.id == first.invalidations[0].id
    (new,) = [b for b in again.batches if not b.resumed]
    assert new.paths.items == ("/b",)
    assert new.submitted_at is not None
    assert (new.submitted_at - emu.runtime.now()).total_seconds() <= 0
    assert virtual.elapsed - started >= LATENCY - 1  # it waited for the earlier one
    assert errors_answered(emu) == {}
