"""
The async engine: plan, schedule within CloudFront's limits, create idempotently, wait.

    report = await Invalidator("EDFDVBD6EXAMPLE").invalidate(paths)

For each call, `Invalidator`

1. plans the paths (`cfinv.plan_paths`): nothing is sent if any is invalid;
2. discovers invalidations already in progress on the distribution (other
   writers) and counts them against the in-progress budget;
3. sends each batch as soon as it fits the budget, paced to CloudFront's
   create rate, retrying throttling, 5xx and dropped connections with the
   batch's own CallerReference, so no batch is ever created twice;
4. polls until every invalidation is ``Completed`` (one ListInvalidations
   answering for several in flight), sending the next batches the moment
   capacity frees up;
5. returns an `InvalidationReport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import inspect
import logging
import random
import time
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import tenacity

from cfinv._api import CloudFrontApi
from cfinv._budget import Budget
from cfinv._loop import LoopLocal
from cfinv._tracker import Tracker
from cfinv.errors import (
    CallerReferenceConflict,
    CfinvError,
    InvalidateManyError,
    InvalidationTimeout,
    InvalidatorClosed,
    Throttling,
    TooManyInvalidationsInProgress,
)
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
from cfinv.models import Invalidation, InvalidationBatch, InvalidationSummary, Limits
from cfinv.pacing import CreatePacer
from cfinv.paths import plan_paths
from cfinv.policies import PollPolicy, RetryPolicy, to_seconds
from cfinv.report import BatchResult, InvalidationReport

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
    from types import TracebackType

    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from types_aiobotocore_cloudfront import CloudFrontClient

    from cfinv.paths import Plan

__all__ = ["Invalidator", "invalidate_many"]

log = logging.getLogger("cfinv")

T = TypeVar("T")

#: Connection and read timeouts of a client cfinv creates (seconds): short
#: enough that a dead connection is noticed and retried within a deploy.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
#: ListInvalidations pages read when looking for other writers' invalidations.
DISCOVERY_PAGES = 5
#: After a timeout, how long to look for creates that were cut short (seconds).
RECOVERY_TIMEOUT = 15.0
#: Looking for the invalidation behind a caller reference, this far back (seconds),
#: to allow for a clock difference with CloudFront.
CLOCK_SKEW = 300.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, CfinvError) and exc.retryable


def _client_config(config: AioConfig | None) -> AioConfig:
    """Our defaults under the user's config: botocore does not retry (cfinv does)."""
    from aiobotocore.config import AioConfig

    ours = AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )
    return ours if config is None else ours.merge(config)


@contextlib.asynccontextmanager
async def _owned_client(
    session: AioSession | None,
    endpoint_url: str | None,
    region_name: str | None,
    config: AioConfig | None,
) -> AsyncIterator[CloudFrontClient]:
    """A CloudFront client from the standard credential chain, closed on exit."""
    if session is None:
        from aiobotocore.session import get_session

        session = get_session()
    # CloudFront is global: without a configured region, sign for us-east-1 as AWS does.
    region = region_name or session.get_config_variable("region") or "us-east-1"
    async with session.create_client(
        "cloudfront",
        region_name=region,
        endpoint_url=endpoint_url,
        config=_client_config(config),
    ) as client:
        yield client


async def _gather_or_cancel(awaitables: Iterable[Awaitable[Any]]) -> None:
    """Await all; on the first failure cancel the rest, wait for them, and raise it."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@attrs.define
class _Run:
    """The state of one invalidate() call."""

    plan: Plan
    results: list[BatchResult]
    started_at: dt.datetime
    calls_before: dict[str, int]
    retries_before: int
    futures: dict[int, asyncio.Future[Invalidation]] = attrs.Factory(dict)
    # Batches whose CreateInvalidation may be under way: if the call is cut
    # short, CloudFront may have created them without cfinv seeing the reply.
    creating: set[int] = attrs.Factory(set)


class Invalidator:
    """
    Invalidates paths of one CloudFront distribution, within its limits, and waits.

    Use it once, and it opens and closes its own client:

        report = await Invalidator("EDFDVBD6EXAMPLE").invalidate(["/index.html", "/img/*"])

    or keep it open across calls (and share its in-progress budget between
    concurrent calls):

        async with Invalidator("EDFDVBD6EXAMPLE", client=cf) as inv:
            report = await inv.invalidate(paths, timeout=900)

    Args:
        distribution_id: The distribution to invalidate (or the tenant, see
            `for_distribution_tenant`).
        client: An open aiobotocore CloudFront client to use; cfinv never
            closes it.  Its retry configuration is left alone: give it
            ``retries={"total_max_attempts": 1}`` to leave retrying to cfinv.
        session: An aiobotocore session to create the client from (default: a
            new one, using the standard credential chain).
        endpoint_url: Where to send requests (e.g. an emulator).
        region_name: The region for the client (CloudFront is global).
        config: An ``AioConfig`` for the client cfinv creates.  cfinv turns
            botocore's own retries off (it retries itself) unless this config
            sets ``retries``.
        limits: The in-progress budget per distribution (CloudFront's quotas).
            Lower it to leave room for other writers.
        retry: How failed calls are retried.
        poll: How often completion is checked.
        pacer: The CreateInvalidation pacer.  Share one between Invalidators
            of one AWS account; by default each has its own, at 0.5 calls/s.
        caller_reference_prefix: The readable start of every CallerReference.
        caller_reference: Makes the CallerReference of batch ``i`` instead
            (it must be unique per batch; it is reused for that batch's retries).
        on_event: Called (or awaited) with every `cfinv.events` event.
            An exception it raises is logged, not propagated.
        clock: Monotonic seconds (injectable for tests).
        sleep: The sleep to wait with (injectable for tests).
        seed: Seeds jitter and CallerReferences, for reproducible tests.
        tenant: ``distribution_id`` names a distribution tenant.
    """

    def __init__(
        self,
        distribution_id: str,
        *,
        client: CloudFrontClient | None = None,
        session: AioSession | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: AioConfig | None = None,
        limits: Limits = Limits(),  # noqa: B008 - an immutable value
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - an immutable value
        poll: PollPolicy = PollPolicy(),  # noqa: B008 - an immutable value
        pacer: CreatePacer | None = None,
        caller_reference_prefix: str = "cfinv",
        caller_reference: Callable[[int], str] | None = None,
        on_event: Callable[[Event], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int | None = None,
        tenant: bool = False,
    ) -> None:
        if not _is_id(distribution_id):
            msg = f"distribution_id must be a non-empty string, got {distribution_id!r}"
            raise ValueError(msg)
        if client is not None and (
            session is not None or endpoint_url or region_name or config is not None
        ):
            msg = (
                "pass either client= or the options to create one "
                "(session, endpoint_url, region_name, config), not both"
            )
            raise ValueError(msg)
        self.distribution_id = distribution_id
        self.tenant = tenant
        self.limits = limits
        self._client = client
        self._session = session
        self._endpoint_url = endpoint_url
        self._region_name = region_name
        self._config = config
        self._retry = retry
        self._poll = poll
        self._pacer = pacer if pacer is not None else CreatePacer(clock=clock, sleep=sleep)
        self._prefix = caller_reference_prefix
        self._make_reference = caller_reference
        self._on_event = on_event
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(seed)  # noqa: S311 - jitter and unique suffixes, not secrets
        self._api = CloudFrontApi(client, distribution_id, tenant=tenant)
        self._budget = Budget(limits)
        self._tracker = Tracker(
            api=self._api,
            budget=self._budget,
            policy=poll,
            retrying=self._retrying,
            emit=self._emit,
            clock=clock,
            sleep=sleep,
            rng=self._rng,
        )
        self._stack: contextlib.AsyncExitStack | None = None
        self._poller: asyncio.Task[None] | None = None
        self._active_calls = 0
        self._entered = False
        self._closed = False
        self._retries = 0
        self._discovery_lock = LoopLocal(asyncio.Lock)
        self._open_lock = LoopLocal(asyncio.Lock)
        self._submitted: dict[str, Invalidation] = {}

    @classmethod
    def for_distribution_tenant(cls, tenant_id: str, **options: Any) -> Invalidator:  # noqa: ANN401
        """
        An Invalidator for a distribution tenant (the ``...ForDistributionTenant`` calls).

        Args:
            tenant_id: The distribution tenant's id.
            **options: Any keyword option of `Invalidator`.
        """
        return cls(tenant_id, tenant=True, **options)

    def __repr__(self) -> str:
        kind = "tenant" if self.tenant else "distribution"
        state = "closed" if self._closed else ("open" if self._entered else "ready")
        return f"<Invalidator {kind}={self.distribution_id} {state}>"

    @property
    def submitted(self) -> tuple[Invalidation, ...]:
        """Every invalidation this Invalidator created, as last seen, oldest first."""
        return tuple(self._submitted.values())

    @property
    def api_calls(self) -> dict[str, int]:
        """Calls made so far, per API operation."""
        return dict(self._api.calls)

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Invalidator:
        if self._closed:
            msg = f"{self!r} was closed; create a new Invalidator"
            raise InvalidatorClosed(msg)
        await self._open()
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        if self._active_calls:
            # Calls still running inside the block would wait forever on a closed client.
            self._tracker.fail(InvalidatorClosed(f"{self!r} was closed while a call was running"))
        await self._stop_poller()
        await self._close_client()

    async def _open(self) -> None:
        async with self._open_lock.get():  # concurrent first calls open one client, not two
            if self._client is not None:
                self._api.client = self._client
                return
            stack = contextlib.AsyncExitStack()
            client = await stack.enter_async_context(
                _owned_client(self._session, self._endpoint_url, self._region_name, self._config)
            )
            self._stack, self._client = stack, client
            self._api.client = client

    async def _close_client(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            self._client = None
            await stack.aclose()

    async def _stop_poller(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(BaseException):
                await poller

    @contextlib.asynccontextmanager
    async def _activity(self) -> AsyncIterator[None]:
        """Open what a call needs (client, poller); close it after the last call."""
        if self._closed:
            msg = f"{self!r} was closed after its `async with` block; create a new Invalidator"
            raise InvalidatorClosed(msg)
        self._active_calls += 1
        try:
            if self._client is None:
                await self._open()
            if self._poller is None or self._poller.done():
                if self._poller is not None and not self._poller.cancelled():
                    self._poller.exception()  # seen: the calls it failed have reported it
                self._poller = asyncio.create_task(self._tracker.run(), name=f"cfinv-poller-{self}")
            yield
        finally:
            self._active_calls -= 1
            if self._active_calls == 0:
                await self._stop_poller()
                # A new call may have started while the poller stopped: it keeps the client.
                if self._active_calls == 0 and not self._entered:
                    await self._close_client()

    # --- plumbing ---------------------------------------------------------------------

    async def _emit(self, event: Event) -> None:
        _log_event(event)
        if self._on_event is None:
            return
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("on_event callback failed on %s; going on", type(event).__name__)

    async def _retrying(
        self, operation: str, call: Callable[[], Awaitable[T]], *, batch: int | None = None
    ) -> T:
        """Run ``call`` under the retry policy, emitting a Retrying event before each pause."""
        policy = self._retry
        start = self._clock()

        def stop(state: tenacity.RetryCallState) -> bool:
            elapsed = self._clock() - start
            return state.attempt_number >= policy.attempts or (
                elapsed + state.upcoming_sleep > policy.deadline
            )

        async def before_sleep(state: tenacity.RetryCallState) -> None:
            self._retries += 1
            error = state.outcome.exception() if state.outcome else None
            await self._emit(
                Retrying(
                    self.distribution_id,
                    operation=operation,
                    error=error if isinstance(error, Exception) else RuntimeError(str(error)),
                    attempt=state.attempt_number,
                    delay=state.upcoming_sleep,
                    batch=batch,
                )
            )

        retrying = tenacity.AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=lambda state: policy.backoff(state.attempt_number, self._rng),
            retry=tenacity.retry_if_exception(_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )

        async def attempt() -> T:
            # tenacity awaits only coroutine functions; `call` may be a lambda or a partial.
            return await call()

        return await retrying(attempt)

    def _reference(self, index: int) -> str:
        if self._make_reference is not None:
            return self._make_reference(index)
        stamp = _utcnow().strftime("%Y%m%dT%H%M%SZ")
        return f"{self._prefix}-{stamp}-{index:04d}-{self._rng.getrandbits(64):016x}"

    # --- finding invalidations ----------------------------------------------------------

    async def _pages(self) -> AsyncIterator[list[InvalidationSummary]]:
        """ListInvalidations pages, newest first, at most DISCOVERY_PAGES of them."""
        marker = ""
        for _ in range(DISCOVERY_PAGES):
            summaries, next_marker = await self._retrying(
                self._api.list_operation, functools.partial(self._api.list_page, marker=marker)
            )
            yield summaries
            if not next_marker:
                return
            marker = next_marker

    async def _get(self, invalidation_id: str) -> Invalidation:
        return await self._retrying(
            self._api.get_operation, functools.partial(self._api.get, invalidation_id)
        )

    def _follow(self, invalidation: Invalidation) -> asyncio.Future[Invalidation]:
        """Follow an invalidation cfinv did not just create; it takes its share of the budget."""
        age = max(0.0, (_utcnow() - invalidation.create_time).total_seconds())
        paths = invalidation.batch.paths
        return self._tracker.track(
            invalidation, files=paths.files, wildcards=paths.wildcards, ours=False, age=age
        )

    async def _discover(self) -> int:
        """
        Follow invalidations of other writers that are in progress; return how many were new.

        Reads ListInvalidations from the newest until a page holds a completed
        one (older ones are almost surely completed too), and GetInvalidation
        for each unknown one in progress, to learn how many paths it holds.
        """
        async with self._discovery_lock.get():
            found = 0
            async for summaries in self._pages():
                for summary in summaries:
                    if summary.status.is_completed or summary.id in self._tracker:
                        continue
                    running = await self._get(summary.id)
                    if not running.is_completed and running.id not in self._tracker:
                        self._follow(running)
                        found += 1
                if any(s.status.is_completed for s in summaries):
                    break
            if found:
                log.info(
                    "%d invalidation(s) of other writers in progress on %s",
                    found,
                    self.distribution_id,
                )
            return found

    async def _find_by_reference(
        self, batch: InvalidationBatch, since: dt.datetime
    ) -> Invalidation | None:
        """The invalidation created since ``since`` with ``batch``'s reference and paths, if any."""
        horizon = since - dt.timedelta(seconds=CLOCK_SKEW)
        async for summaries in self._pages():
            for summary in summaries:
                if summary.create_time < horizon:
                    return None
                candidate = await self._get(summary.id)
                if candidate.batch.caller_reference == batch.caller_reference:
                    same = sorted(candidate.batch.paths.items) == sorted(batch.paths.items)
                    return candidate if same else None
        return None

    # --- sending -------------------------------------------------------------------------

    async def _create(self, index: int, batch: InvalidationBatch) -> tuple[Invalidation, int]:
        """CreateInvalidation with retries, all with the batch's CallerReference."""
        attempts = 0
        since = _utcnow()

        async def attempt() -> Invalidation:
            nonlocal attempts
            attempts += 1
            await self._pacer.acquire()
            try:
                return await self._api.create(batch)
            except Throttling:
                self._pacer.penalize()
                raise
            except CallerReferenceConflict as conflict:
                # An earlier attempt of ours may have created it and lost the reply;
                # only an invalidation with the same reference *and paths* is ours.
                found = await self._find_by_reference(batch, since)
                if found is None:
                    msg = (
                        f"batch {index}: CallerReference {batch.caller_reference!r} was already "
                        "used on this distribution for other paths; use a fresh reference "
                        "for every batch"
                    )
                    raise CallerReferenceConflict(
                        msg,
                        code=conflict.code,
                        status_code=conflict.status_code,
                        request_id=conflict.request_id,
                        operation=conflict.operation,
                    ) from conflict
                log.info("batch %d: %s was created by an earlier attempt", index, found.id)
                return found

        invalidation = await self._retrying(self._api.create_operation, attempt, batch=index)
        return invalidation, attempts

    async def _send(
        self, run: _Run, index: int, batch: InvalidationBatch
    ) -> tuple[Invalidation, int]:
        """
        Create batch ``index`` once it fits the budget; (invalidation, calls it took).

        Holds the batch's budget share on return; gives it back on any failure.
        """
        files, wildcards = batch.paths.files, batch.paths.wildcards
        attempts = refusals = 0

        async def waiting(*, refused: bool = False) -> None:
            await self._emit(
                WaitingForCapacity(
                    self.distribution_id,
                    batch=index,
                    files=files,
                    wildcards=wildcards,
                    in_progress_files=self._budget.files,
                    in_progress_wildcards=self._budget.wildcards,
                    refused=refused,
                )
            )

        while True:
            await self._budget.acquire(files, wildcards, on_wait=waiting)
            run.creating.add(index)
            try:
                invalidation, tries = await self._create(index, batch)
            except TooManyInvalidationsInProgress:
                # Someone cfinv does not know of holds capacity: find them, then wait.
                run.creating.discard(index)
                self._budget.release(files, wildcards)
                refusals += 1
                attempts += 1
                await waiting(refused=True)
                if not await self._discover():
                    backoff = self._poll.min_interval * 2 ** min(refusals, 16)
                    await self._sleep(self._poll.next_delay(backoff, self._rng))
                continue
            except asyncio.CancelledError:
                self._budget.release(files, wildcards)
                if index in run.creating:  # the create may have happened anyway
                    log.warning(
                        "%s: batch %d was cancelled during CreateInvalidation; it may have "
                        "been created (CallerReference %s)",
                        self.distribution_id,
                        index,
                        batch.caller_reference,
                    )
                raise
            except BaseException:
                run.creating.discard(index)
                self._budget.release(files, wildcards)
                raise
            return invalidation, attempts + tries

    async def _submit(self, run: _Run, index: int) -> None:
        """Send batch ``index`` once it fits the budget, then follow it."""
        result = run.results[index]
        paths = result.paths
        files, wildcards = paths.files, paths.wildcards
        invalidation, attempts = await self._send(
            run, index, InvalidationBatch(paths, result.caller_reference)
        )
        # Followed before anything else can be interrupted: its budget share is
        # released when it completes, whatever happens to this call.
        future = self._tracker.track(
            invalidation, files=files, wildcards=wildcards, ours=True, batch=index
        )
        run.creating.discard(index)
        run.futures[index] = future
        self._submitted[invalidation.id] = invalidation
        run.results[index] = attrs.evolve(
            result, invalidation=invalidation, submitted_at=_utcnow(), attempts=attempts
        )

        def completed(done: asyncio.Future[Invalidation]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            final = done.result()
            self._submitted[final.id] = final
            run.results[index] = attrs.evolve(
                run.results[index], invalidation=final, completed_at=_utcnow()
            )

        future.add_done_callback(completed)
        await self._emit(
            Submitted(
                self.distribution_id, batch=index, invalidation=invalidation, attempts=attempts
            )
        )
        if invalidation.is_completed:  # moto, say: done before anyone asked
            await self._emit(
                Completed(self.distribution_id, invalidation=invalidation, batch=index, seconds=0.0)
            )

    async def _execute(self, run: _Run, *, wait: bool) -> None:
        if not run.results:
            return  # nothing to send: no call at all
        await self._discover()
        await _gather_or_cancel(self._submit(run, i) for i in range(len(run.results)))
        if wait:
            # Shielded: a timeout here must not cancel what the poller shares with wait().
            await _gather_or_cancel(asyncio.shield(f) for f in run.futures.values())

    # --- the public calls ---------------------------------------------------------------

    async def invalidate(
        self,
        paths: Iterable[str],
        *,
        wait: bool = True,
        timeout: float | dt.timedelta | None = None,
        raise_on_timeout: bool = True,
    ) -> InvalidationReport:
        """
        Invalidate ``paths`` and (by default) wait until every invalidation is ``Completed``.

        Args:
            paths: The changed paths, as `cfinv.plan_paths` takes them.
            wait: Wait for completion; with ``False``, return once every batch
                was accepted (which may still mean waiting for capacity).
            timeout: Give up after this long (seconds or ``timedelta``);
                ``None`` waits as long as it takes.
            raise_on_timeout: On timeout, raise `InvalidationTimeout`
                (carrying the partial report); with ``False``, return the
                partial report (``report.timed_out`` is true).

        Returns:
            The report: every batch with its invalidation and times.

        Raises:
            InvalidPathError: A path is invalid; nothing was sent.
            InvalidationTimeout: The timeout passed first.
            CloudFrontError: A call failed in a way retrying cannot fix
                (e.g. `AccessDenied`, `NoSuchDistribution`).
        """
        limit = None if timeout is None else to_seconds(timeout)
        plan = plan_paths(paths, limits=self.limits)
        started = _utcnow()
        async with self._activity():
            await self._emit(Planned(self.distribution_id, plan=plan))
            run = _Run(
                plan=plan,
                results=[
                    BatchResult(index=i, paths=b, caller_reference=self._reference(i))
                    for i, b in enumerate(plan.batches)
                ],
                started_at=started,
                calls_before=dict(self._api.calls),
                retries_before=self._retries,
            )
            timed_out = False
            try:
                await asyncio.wait_for(self._execute(run, wait=wait), limit)
            except asyncio.TimeoutError:
                await self._recover(run)
                # What the recovery found may be all there was to wait for.
                timed_out = any(
                    not (r.is_completed or (not wait and r.invalidation is not None))
                    for r in run.results
                )
            report = self._report(run, timed_out=timed_out, waited=wait)
            await self._emit(Finished(self.distribution_id, report=report))
        if timed_out and raise_on_timeout:
            pending = len(report.pending)
            msg = (
                f"{self.distribution_id}: {pending} of {len(report.batches)} batches not completed "
                f"after {limit:g}s; the report lists what was created (resume with wait(ids))"
            )
            raise InvalidationTimeout(msg, report=report, invalidations=report.invalidations)
        return report

    async def _recover(self, run: _Run) -> None:
        """
        After a timeout, find the batches whose create was cut short but happened anyway.

        Without this, a create cut off after CloudFront accepted it would be
        reported as never sent.  Best effort, at most RECOVERY_TIMEOUT seconds
        in all: on failure the CallerReference is logged so the invalidation
        can be found by hand.
        """
        if not run.creating:
            return
        indexes = sorted(run.creating)
        lookups = [
            self._find_by_reference(
                InvalidationBatch(run.results[i].paths, run.results[i].caller_reference),
                run.started_at,
            )
            for i in indexes
        ]
        try:
            found = await asyncio.wait_for(
                asyncio.gather(*lookups, return_exceptions=True), RECOVERY_TIMEOUT
            )
        except asyncio.TimeoutError:
            found = [asyncio.TimeoutError("looking it up took too long")] * len(indexes)
        for index, outcome in zip(indexes, found, strict=True):
            result = run.results[index]
            if isinstance(outcome, BaseException):
                log.warning(
                    "%s: batch %d may have been created (CallerReference %s): %s",
                    self.distribution_id,
                    index,
                    result.caller_reference,
                    outcome,
                )
                continue
            if outcome is None:
                continue
            if outcome.id not in self._tracker and not outcome.is_completed:
                self._follow(outcome)
            self._submitted[outcome.id] = outcome
            run.results[index] = attrs.evolve(
                result,
                invalidation=outcome,
                submitted_at=outcome.create_time,
                completed_at=_utcnow() if outcome.is_completed else None,
                attempts=max(result.attempts, 1),
            )
            await self._emit(
                Submitted(self.distribution_id, batch=index, invalidation=outcome, attempts=1)
            )

    def _report(self, run: _Run, *, timed_out: bool, waited: bool) -> InvalidationReport:
        calls = {
            op: n - run.calls_before.get(op, 0)
            for op, n in self._api.calls.items()
            if n - run.calls_before.get(op, 0)
        }
        return InvalidationReport(
            distribution_id=self.distribution_id,
            batches=tuple(run.results),
            input_count=run.plan.input_count,
            duplicates_dropped=run.plan.duplicates_dropped,
            covered_dropped=run.plan.covered_dropped,
            started_at=run.started_at,
            finished_at=_utcnow(),
            api_calls=calls,
            retries=self._retries - run.retries_before,
            timed_out=timed_out,
            waited=waited,
        )

    async def wait(
        self,
        ids: Iterable[str],
        *,
        timeout: float | dt.timedelta | None = None,
        raise_on_timeout: bool = True,
    ) -> tuple[Invalidation, ...]:
        """
        Wait until invalidations created earlier (by cfinv or anything else) are ``Completed``.

        Args:
            ids: Invalidation ids of this distribution.
            timeout: Give up after this long; ``None`` waits as long as it takes.
            raise_on_timeout: On timeout raise `InvalidationTimeout`;
                with ``False`` return them as last seen.

        Returns:
            The invalidations, in the order given, as last seen.

        Raises:
            NoSuchInvalidation: An id is unknown on this distribution.
            InvalidationTimeout: The timeout passed first.
        """
        limit = None if timeout is None else to_seconds(timeout)
        wanted = list(dict.fromkeys(ids))
        latest: dict[str, Invalidation] = {}
        timed_out = False
        async with self._activity():

            async def follow(invalidation_id: str) -> None:
                if invalidation_id in self._tracker:
                    future = self._tracker.future(invalidation_id)
                else:
                    current = await self._get(invalidation_id)
                    latest[invalidation_id] = current
                    future = self._follow(current)
                latest[invalidation_id] = await asyncio.shield(future)

            try:
                await asyncio.wait_for(_gather_or_cancel(follow(i) for i in wanted), limit)
            except asyncio.TimeoutError:
                timed_out = True
        result = tuple(
            found
            for i in wanted
            if (found := self._tracker.current(i) or latest.get(i)) is not None
        )
        if timed_out and raise_on_timeout:
            pending = [inv.id for inv in result if not inv.is_completed]
            msg = f"{self.distribution_id}: {pending} not completed after {limit:g}s"
            raise InvalidationTimeout(msg, invalidations=result)
        return result


def _log_event(event: Event) -> None:
    """The one place events become log lines (never with credentials: events hold none)."""
    dist = event.distribution_id
    if isinstance(event, Planned):
        plan = event.plan
        log.info(
            "%s: %d paths -> %d batches, %d billable (%d duplicates, %d covered dropped)",
            dist,
            plan.input_count,
            len(plan.batches),
            plan.billable,
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


async def invalidate_many(
    targets: Mapping[str, Iterable[str]],
    *,
    wait: bool = True,
    timeout: float | dt.timedelta | None = None,
    raise_on_timeout: bool = True,
    client: CloudFrontClient | None = None,
    session: AioSession | None = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    config: AioConfig | None = None,
    pacer: CreatePacer | None = None,
    tenants: Mapping[str, Iterable[str]] | None = None,
    **options: Any,  # noqa: ANN401 - Invalidator's keyword options, passed through
) -> dict[str, InvalidationReport]:
    """
    Invalidate several distributions at once, on one client and one account-wide create pacer.

    ``reports = await invalidate_many({"E1AAAAAAAAAAAA": ["/*"], "E2BBBBBBBBBBBB": ["/a"]})``

    Args:
        targets: Distribution id -> its changed paths.
        wait: As for `Invalidator.invalidate`.
        timeout: As for `Invalidator.invalidate`, per distribution.
        raise_on_timeout: As for `Invalidator.invalidate`.
        client: An open aiobotocore CloudFront client to share (never closed by cfinv).
        session: An aiobotocore session to create the shared client from.
        endpoint_url: Where the created client sends requests.
        region_name: The created client's region.
        config: The created client's ``AioConfig``.
        pacer: The shared CreateInvalidation pacer (default: 0.5 calls/s, burst 5).
        tenants: Distribution tenant id -> its changed paths, invalidated alongside.
        **options: Passed to every `Invalidator` (``limits``, ``retry``,
            ``poll``, ``on_event``, ...).

    Returns:
        Distribution (or tenant) id -> its report.

    Raises:
        InvalidateManyError: Some distributions failed (the others' reports are in it).
    """
    if pacer is None:
        timing = {k: options[k] for k in ("clock", "sleep") if k in options}
        pacer = CreatePacer(**timing)
    reports: dict[str, InvalidationReport] = {}
    errors: dict[str, BaseException] = {}
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(
                _owned_client(session, endpoint_url, region_name, config)
            )

        async def one(distribution_id: str, paths: Iterable[str], *, tenant: bool) -> None:
            invalidator = Invalidator(
                distribution_id, client=client, pacer=pacer, tenant=tenant, **options
            )
            try:
                reports[distribution_id] = await invalidator.invalidate(
                    paths, wait=wait, timeout=timeout, raise_on_timeout=raise_on_timeout
                )
            except Exception as exc:  # noqa: BLE001 - collected and raised together below
                errors[distribution_id] = exc

        await asyncio.gather(
            *(one(d, p, tenant=False) for d, p in targets.items()),
            *(one(t, p, tenant=True) for t, p in (tenants or {}).items()),
        )
    if errors:
        raise InvalidateManyError(reports, errors)
    return reports
