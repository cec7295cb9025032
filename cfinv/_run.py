"""
One ``invalidate()`` call: send the batches as they fit, follow them, and report.

A `Run` owns its figures (the batch results, its API calls and retries) and
nothing else; the parts it uses belong to the `cfinv._engine.Engine`.  It
ends in one of four ways, and in each the report lists every invalidation
created, including one whose create was cut short after CloudFront acted
(looked up by its CallerReference):

* done: every batch accepted (and, when waiting, completed);
* timed out: `InvalidationTimeout`, or the report with ``timed_out`` set;
* failed for good: no further batch is sent, the error carries the report;
* closed: the Invalidator was closed under it, `InvalidatorClosed`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import TYPE_CHECKING, Any

import attrs

from cfinv._gateway import Tally
from cfinv.errors import (
    CallerReferenceConflict,
    Throttling,
    TooManyInvalidationsInProgress,
)
from cfinv.events import Completed, Submitted, WaitingForCapacity
from cfinv.models import Invalidation, InvalidationBatch
from cfinv.report import BatchResult, InvalidationReport

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Awaitable, Iterable

    from cfinv._engine import Engine
    from cfinv.paths import Plan

__all__ = ["RECOVERY_TIMEOUT", "Ending", "Run", "gather_or_cancel", "supervise"]

log = logging.getLogger("cfinv")

#: After a call is cut short, how long to look for creates that happened anyway (seconds).
RECOVERY_TIMEOUT = 15.0


class Ending(enum.Enum):
    """How a supervised call ended."""

    DONE = "done"
    TIMED_OUT = "timed out"
    CLOSED = "closed"


async def supervise(
    work: Awaitable[Any], engine: Engine, timeout: float | None, closing: asyncio.Future[None]
) -> Ending:
    """
    Run ``work`` until it is done, ``timeout`` passes, or ``closing`` is set.

    On a timeout or a close, ``work`` is cancelled and awaited before this
    returns.  If ``work`` fails, its error is raised.  If the caller is
    cancelled, ``work`` is cancelled too.
    """
    task = asyncio.ensure_future(work)
    waits: set[asyncio.Future[Any]] = {task, closing}
    timer = None
    if timeout is not None:
        timer = asyncio.ensure_future(engine.runtime.sleep(timeout))
        waits.add(timer)
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if timer is not None:
            timer.cancel()
        if not task.done():
            task.cancel()
        await asyncio.gather(task, *(w for w in (timer,) if w), return_exceptions=True)
    if not task.cancelled():
        task.result()  # raises what it failed with
        return Ending.DONE
    return Ending.CLOSED if closing.done() else Ending.TIMED_OUT


async def gather_or_cancel(awaitables: Iterable[Awaitable[Any]]) -> None:
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


class Run:
    """
    The state and figures of one ``invalidate()`` call.

    Args:
        engine: The Invalidator's shared parts.
        plan: What to send.
        wait: Whether to wait for completion.
    """

    def __init__(self, engine: Engine, plan: Plan, *, wait: bool) -> None:
        self.engine = engine
        self.plan = plan
        self.wait = wait
        self.tally = Tally()
        self.started_at = engine.runtime.now()
        self.results = [
            BatchResult(index=i, paths=paths, caller_reference=engine.reference(i))
            for i, paths in enumerate(plan.batches)
        ]
        self._futures: dict[int, asyncio.Future[Invalidation]] = {}
        # Batches whose CreateInvalidation may be under way, and when the first
        # went out: if the call is cut short, CloudFront may have created them
        # without cfinv seeing the reply.
        self._in_doubt: dict[int, dt.datetime] = {}

    @property
    def target_id(self) -> str:
        """The distribution (or tenant) id."""
        return self.engine.target_id

    # --- running ----------------------------------------------------------------------

    async def execute(self) -> None:
        """Discover other writers, send every batch as it fits, and (if asked) wait."""
        if not self.results:
            return  # nothing to send: no call at all
        await self.engine.discover(tallies=(self.tally,))
        await gather_or_cancel(self._submit(i) for i in range(len(self.results)))
        if self.wait:
            # Shielded: ending this call must not cancel what the poller shares.
            await gather_or_cancel(asyncio.shield(f) for f in self._futures.values())

    async def _submit(self, index: int) -> None:
        """Send batch ``index`` once it fits the budget, then follow it."""
        result = self.results[index]
        paths = result.paths
        invalidation, attempts = await self._send(
            index, InvalidationBatch(paths, result.caller_reference)
        )
        # Followed before anything else can be interrupted: its budget share is
        # released when it completes, whatever happens to this call.
        future = self.engine.poller.track(
            invalidation,
            files=paths.files,
            wildcards=paths.wildcards,
            ours=True,
            batch=index,
            tally=self.tally,
        )
        self._in_doubt.pop(index, None)
        self._futures[index] = future
        self._accepted(index, invalidation, attempts=attempts, at=self.engine.runtime.now())
        future.add_done_callback(lambda done: self._finished(index, done))
        await self._announce(index, invalidation, attempts)

    def _accepted(
        self, index: int, invalidation: Invalidation, *, attempts: int, at: dt.datetime
    ) -> None:
        self.engine.submitted[invalidation.id] = invalidation
        self.results[index] = attrs.evolve(
            self.results[index],
            invalidation=invalidation,
            submitted_at=at,
            completed_at=self.engine.runtime.now() if invalidation.is_completed else None,
            attempts=max(attempts, 1),
        )

    def _finished(self, index: int, done: asyncio.Future[Invalidation]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        final = done.result()
        self.engine.submitted[final.id] = final
        self.results[index] = attrs.evolve(
            self.results[index], invalidation=final, completed_at=self.engine.runtime.now()
        )

    async def _announce(self, index: int, invalidation: Invalidation, attempts: int) -> None:
        emit = self.engine.emitter.emit
        await emit(
            Submitted(self.target_id, batch=index, invalidation=invalidation, attempts=attempts)
        )
        if invalidation.is_completed:  # moto, say: done before anyone asked
            await emit(
                Completed(self.target_id, invalidation=invalidation, batch=index, seconds=0.0)
            )

    async def _send(self, index: int, batch: InvalidationBatch) -> tuple[Invalidation, int]:
        """
        Create batch ``index`` once it fits the budget; (invalidation, calls it took).

        Holds the batch's budget share on return; gives it back on any failure.
        """
        engine = self.engine
        budget = engine.budget
        files, wildcards = batch.paths.files, batch.paths.wildcards
        attempts = refusals = 0

        async def waiting(*, refused: bool = False) -> None:
            await engine.emitter.emit(
                WaitingForCapacity(
                    self.target_id,
                    batch=index,
                    files=files,
                    wildcards=wildcards,
                    in_progress_files=budget.files,
                    in_progress_wildcards=budget.wildcards,
                    refused=refused,
                )
            )

        while True:
            await budget.acquire(files, wildcards, on_wait=waiting)
            self._in_doubt.setdefault(index, engine.runtime.now())
            try:
                invalidation, tries = await self._create(index, batch)
            except TooManyInvalidationsInProgress:
                # Someone cfinv does not know of holds capacity: find them, then wait.
                self._in_doubt.pop(index, None)
                budget.release(files, wildcards)
                refusals += 1
                attempts += 1
                await waiting(refused=True)
                if not await engine.discover(tallies=(self.tally,)):
                    backoff = engine.poll.min_interval * 2 ** min(refusals, 16)
                    await engine.runtime.sleep(
                        engine.poll.next_delay(backoff, engine.runtime.random)
                    )
                continue
            except asyncio.CancelledError:
                budget.release(files, wildcards)
                raise  # still in doubt: the create may have happened anyway
            except BaseException:
                self._in_doubt.pop(index, None)
                budget.release(files, wildcards)
                raise
            return invalidation, attempts + tries

    async def _create(self, index: int, batch: InvalidationBatch) -> tuple[Invalidation, int]:
        """CreateInvalidation with retries, all with the batch's CallerReference."""
        engine = self.engine
        gateway = engine.gateway
        tallies = (self.tally,)
        attempts = 0
        since = engine.runtime.now()

        async def attempt() -> Invalidation:
            nonlocal attempts
            attempts += 1
            await engine.pacer.acquire()
            try:
                return await gateway.create(batch, tallies=tallies)
            except Throttling:
                engine.pacer.penalize()
                raise
            except CallerReferenceConflict as conflict:
                # An earlier attempt of ours may have created it and lost the reply;
                # only an invalidation with the same reference *and paths* is ours.
                found = await engine.discovery.by_reference(batch, since=since, tallies=tallies)
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

        invalidation = await engine.retrier(
            gateway.create_operation, attempt, batch=index, tallies=tallies
        )
        return invalidation, attempts

    # --- after the end ----------------------------------------------------------------------

    async def recover(self) -> None:
        """
        Find the batches whose create was cut short but happened anyway.

        Without this, a create cut off after CloudFront accepted it would be
        reported as never sent.  Best effort, at most `RECOVERY_TIMEOUT`
        seconds in all: on failure the CallerReference is logged, so the
        invalidation can be found by hand.
        """
        if not self._in_doubt:
            return
        engine = self.engine
        indexes = sorted(self._in_doubt)
        lookups = [
            engine.discovery.by_reference(
                InvalidationBatch(self.results[i].paths, self.results[i].caller_reference),
                since=self._in_doubt[i],
                tallies=(self.tally,),
            )
            for i in indexes
        ]
        try:
            found: list[Invalidation | BaseException | None] = await engine.runtime.wait_for(
                asyncio.gather(*lookups, return_exceptions=True), RECOVERY_TIMEOUT
            )
        except TimeoutError:
            found = [TimeoutError("looking it up took too long")] * len(indexes)
        for index, outcome in zip(indexes, found, strict=True):
            if isinstance(outcome, BaseException):
                log.warning(
                    "%s: batch %d may have been created (CallerReference %s): %s",
                    self.target_id,
                    index,
                    self.results[index].caller_reference,
                    outcome,
                )
                continue
            self._in_doubt.pop(index, None)
            if outcome is None:
                continue
            if outcome.id not in engine.poller and not outcome.is_completed:
                engine.follow_other(outcome, tally=self.tally)
            self._accepted(index, outcome, attempts=1, at=outcome.create_time)
            await self._announce(index, outcome, 1)

    def unfinished(self) -> bool:
        """Whether something is still missing: a batch unsent, or (when waiting) not completed."""
        return any(
            not (r.is_completed or (not self.wait and r.invalidation is not None))
            for r in self.results
        )

    def report(self, *, timed_out: bool = False) -> InvalidationReport:
        """The report of this call, as far as it got."""
        return InvalidationReport(
            distribution_id=self.target_id,
            batches=tuple(self.results),
            input_count=self.plan.input_count,
            duplicates_dropped=self.plan.duplicates_dropped,
            covered_dropped=self.plan.covered_dropped,
            started_at=self.started_at,
            finished_at=self.engine.runtime.now(),
            api_calls=dict(+self.tally.calls),
            retries=self.tally.retries,
            timed_out=timed_out,
            waited=self.wait,
        )
