"""
One ``invalidate()`` call: cut each batch when it is sent, follow it, and report.

A `Run` owns its figures (the batch results, its API calls and retries) and
its work (the paths still to send); the parts it uses belong to the
`cfinv._engine.Engine`.  Batches go out one after the other: each is cut
from the work when the budget has room for one worth a create (see
`cfinv._packing`), sized to what is free at that moment and to what one
request may carry.  A refusal (``TooManyInvalidationsInProgress``: someone
cfinv did not know of holds capacity) puts the paths back, re-reads what is in
progress and packs again; a ``BatchTooLarge`` puts them back and lowers the
per-request cap.

A run ends in one of four ways, and in each the report lists every
invalidation created, including one whose reply was lost (looked up by its
CallerReference), and every path not sent:

* done: every path accepted (and, when waiting, completed);
* timed out: `InvalidationTimeout`, or the report with ``timed_out`` set;
* failed for good: no further batch is sent; the error carries the report;
* closed: the Invalidator was closed under it: `InvalidatorClosed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
from typing import TYPE_CHECKING, Any

import attrs

from cfinv._gateway import Tally
from cfinv._packing import Work, next_batch
from cfinv.errors import (
    AccessDenied,
    BatchTooLarge,
    CallerReferenceConflict,
    ServiceUnavailable,
    Throttling,
    TooManyInvalidationsInProgress,
    TransportError,
)
from cfinv.events import Completed, Submitted, WaitingForCapacity
from cfinv.models import Invalidation, InvalidationBatch
from cfinv.paths import covers, is_wildcard
from cfinv.report import BatchResult, InvalidationReport

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Awaitable, Iterable

    from cfinv._engine import Engine
    from cfinv.models import Paths
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
    try:
        with contextlib.suppress(TimeoutError):
            await engine.runtime.wait_for(
                asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED), timeout
            )
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
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


@attrs.define
class _InDoubt:
    """A batch whose create may have reached CloudFront without cfinv seeing the answer."""

    index: int
    batch: InvalidationBatch
    since: dt.datetime  # when its first create went out
    ambiguous: bool = False  # an attempt ended without a clear answer (reset, timeout, 5xx)


class Run:
    """
    The work, state and figures of one ``invalidate()`` call.

    Args:
        engine: The Invalidator's shared parts.
        plan: What to send (its batches show an idle distribution's cut;
            the run cuts its own as it sends).
        wait: Whether to wait for completion.
    """

    def __init__(self, engine: Engine, plan: Plan, *, wait: bool) -> None:
        self.engine = engine
        self.plan = plan
        self.wait = wait
        self.tally = Tally()
        self.started_at = engine.runtime.now()
        self.work = Work(path for batch in plan.batches for path in batch.items)
        self.results: list[BatchResult] = []
        self._futures: list[asyncio.Future[Invalidation]] = []
        self._in_doubt: _InDoubt | None = None
        self._refusals = 0  # in a row
        self._next_reference = 0  # the batch number of the next CallerReference

    @property
    def target_id(self) -> str:
        """The distribution (or tenant) id."""
        return self.engine.target_id

    # --- running ----------------------------------------------------------------------

    async def execute(self) -> None:
        """Discover other writers, send every path as capacity allows, and (if asked) wait."""
        if not self.work:
            return  # nothing to send: no call at all
        if self.engine.references.resumable:
            await self._resume(await self.engine.survey(tallies=(self.tally,)))
        else:
            await self.engine.discover(tallies=(self.tally,))
        await self._send_all()
        if self.wait:
            # Shielded: ending this call must not cancel what the poller shares.
            await gather_or_cancel(asyncio.shield(f) for f in self._futures)

    async def _resume(self, earlier: list[Invalidation]) -> None:
        """
        Take over what earlier runs of this deploy created: report them, wait for them.

        Their paths (and the paths their wildcards cover) are not sent again.
        """
        engine = self.engine
        sent: set[str] = set()
        wildcards: list[str] = []
        for invalidation in earlier:
            index = len(self.results)
            self.results.append(
                BatchResult(
                    index=index,
                    paths=invalidation.batch.paths,
                    caller_reference=invalidation.batch.caller_reference,
                    invalidation=invalidation,
                    submitted_at=invalidation.create_time,
                    completed_at=engine.runtime.now() if invalidation.is_completed else None,
                    resumed=True,
                )
            )
            for path in invalidation.batch.paths.items:
                sent.add(_key(path))
                if is_wildcard(path):
                    wildcards.append(path)
            if not invalidation.is_completed:
                future = engine.poller.follow(invalidation, tally=self.tally)
                self._futures.append(future)
                future.add_done_callback(functools.partial(self._finished, index))
        self._next_reference = engine.references.next_index(
            i.batch.caller_reference for i in earlier
        )
        if earlier:
            left = self.work.drop(
                lambda path: _key(path) in sent or any(covers(w, path) for w in wildcards)
            )
            log.info(
                "%s: %d invalidation(s) of this deploy found from earlier runs; %d path(s) "
                "left to send",
                self.target_id,
                len(earlier),
                left,
            )

    def _pick(self, free_files: int, free_wildcards: int) -> tuple[int, int] | None:
        """The next batch's share of what is free, or None to wait (the budget asks)."""
        return next_batch(
            self.work.files,
            self.work.wildcards,
            free_files,
            free_wildcards,
            limits=self.engine.limits,
            per_request=self.engine.cap.size,
        )

    async def _send_all(self) -> None:
        """Cut and send batches until no path is left; one create at a time."""
        engine = self.engine
        budget = engine.budget
        while self.work:
            index = len(self.results)
            # Never reused, even for a batch that was refused: a refusal after a lost
            # reply may still have created it under this reference.
            reference = engine.references.make(self._next_reference)
            self._next_reference += 1
            share = await budget.reserve(
                self._pick, on_wait=functools.partial(self._waiting, index)
            )
            created: Invalidation | None = None
            pending = self._in_doubt = _InDoubt(
                index, InvalidationBatch(self.work.take(*share), reference), engine.runtime.now()
            )
            try:
                created, attempts = await self._create(pending)
            except (TooManyInvalidationsInProgress, BatchTooLarge) as refusal:
                created, attempts = await self._found_if_ambiguous(pending), 1
                if created is None:
                    self._in_doubt = None  # refused: nothing was created
                    self.work.give_back(pending.batch.paths)
                    await self._after_refusal(refusal, pending)
                    continue
            except asyncio.CancelledError:
                log.warning(
                    "%s: batch %d was cut short during CreateInvalidation; it may have been "
                    "created (CallerReference %s)",
                    self.target_id,
                    index,
                    reference,
                )
                raise  # still in doubt: recover() looks it up after a timeout or a close
            except BaseException:
                if not pending.ambiguous:
                    self._in_doubt = None  # a clear answer: nothing was created
                    self.work.give_back(pending.batch.paths)
                raise
            finally:
                if created is None:
                    budget.release(*share)
            self._in_doubt = None
            self._refusals = 0
            engine.cap.was_accepted(pending.batch.paths.quantity)
            await self._accepted(index, pending.batch, created, attempts)

    async def _found_if_ambiguous(self, pending: _InDoubt) -> Invalidation | None:
        """
        After a refusal, the invalidation an earlier attempt of this batch created, if any.

        Only an attempt that ended without a clear answer (its reply lost) can
        have created it; CloudFront may check its limits before the
        CallerReference, and refuse the retry of a batch it already holds.
        """
        if not pending.ambiguous:
            return None
        try:
            return await self.engine.discovery.by_reference(
                pending.batch, since=pending.since, tallies=(self.tally,)
            )
        except AccessDenied as denied:
            if type(denied) is not AccessDenied:
                raise
            # Without List and Get nobody can tell: the paths go out again in a new
            # batch (at worst invalidated twice, never lost).
            log.warning(
                "%s: batch %d may have been created (CallerReference %s), but looking it up "
                "was denied (%s); its paths are sent again",
                self.target_id,
                pending.index,
                pending.batch.caller_reference,
                denied.operation,
            )
            return None

    async def _after_refusal(self, refusal: Exception, pending: _InDoubt) -> None:
        if isinstance(refusal, BatchTooLarge):
            self._too_large(pending.batch.paths, refusal)
        else:
            await self._refused(pending.index)

    async def _waiting(self, index: int, *, refused: bool = False) -> None:
        limits, budget = self.engine.limits, self.engine.budget
        await self.engine.emitter.emit(
            WaitingForCapacity(
                self.target_id,
                batch=index,
                files=min(self.work.files, limits.files),
                wildcards=min(self.work.wildcards, limits.wildcards),
                in_progress_files=budget.files,
                in_progress_wildcards=budget.wildcards,
                refused=refused,
            )
        )

    async def _refused(self, index: int) -> None:
        """
        ``TooManyInvalidationsInProgress``: find who holds capacity, then pack again.

        Each refusal spends a create token, so after one that taught nothing
        (nobody new in progress), or several in a row, cfinv backs off with
        jitter, up to the poll policy's longest interval.
        """
        engine = self.engine
        self._refusals += 1
        await self._waiting(index, refused=True)
        found = await engine.discover(tallies=(self.tally,))
        if found and self._refusals == 1:
            return  # the budget now counts them: the next batch fits what is free
        policy, runtime = engine.poll, engine.runtime
        ceiling = min(policy.max_interval, policy.min_interval * 2 ** (self._refusals - 1))
        await runtime.sleep(runtime.random.uniform(ceiling / 2, ceiling))

    def _too_large(self, paths: Paths, refusal: BatchTooLarge) -> None:
        """``BatchTooLarge``: the endpoint caps requests below this size; pack smaller."""
        if paths.quantity < 2:  # noqa: PLR2004 - one path: it is too large, not the count
            msg = f"the endpoint refuses even a batch of one path, {paths.items[0][:200]!r}"
            raise BatchTooLarge(
                msg,
                status_code=refusal.status_code,
                request_id=refusal.request_id,
                operation=refusal.operation,
                context=self.engine.gateway.context,
            ) from refusal
        cap = self.engine.cap
        cap.was_refused(paths.quantity)
        log.info(
            "%s: a batch of %d paths was too large for one request; sending at most %s",
            self.target_id,
            paths.quantity,
            cap.size,
        )

    async def _accepted(
        self, index: int, batch: InvalidationBatch, invalidation: Invalidation, attempts: int
    ) -> None:
        """Follow a created invalidation (its budget share goes with it) and record it."""
        engine = self.engine
        paths = batch.paths
        # Followed before anything else can be interrupted: its budget share is
        # released when it completes, whatever happens to this call.
        future = engine.poller.track(
            invalidation,
            files=paths.files,
            wildcards=paths.wildcards,
            ours=True,
            batch=index,
            tally=self.tally,
        )
        self._futures.append(future)
        self._record(index, batch, invalidation, attempts, engine.runtime.now())
        future.add_done_callback(functools.partial(self._finished, index))
        await self._announce(index, invalidation, attempts)

    def _record(
        self,
        index: int,
        batch: InvalidationBatch,
        invalidation: Invalidation,
        attempts: int,
        at: dt.datetime,
    ) -> None:
        self.engine.submitted[invalidation.id] = invalidation
        self.results.append(
            BatchResult(
                index=index,
                paths=batch.paths,
                caller_reference=batch.caller_reference,
                invalidation=invalidation,
                submitted_at=at,
                completed_at=self.engine.runtime.now() if invalidation.is_completed else None,
                attempts=max(attempts, 1),
            )
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

    async def _create(self, pending: _InDoubt) -> tuple[Invalidation, int]:
        """CreateInvalidation with retries, all with the batch's CallerReference."""
        engine = self.engine
        gateway = engine.gateway
        tallies = (self.tally,)
        index, batch, since = pending.index, pending.batch, pending.since
        attempts = 0

        async def attempt() -> Invalidation:
            nonlocal attempts
            attempts += 1
            await engine.pacer.acquire()
            try:
                return await gateway.create(batch, tallies=tallies)
            except Throttling:
                engine.pacer.penalize()
                raise
            except (TransportError, ServiceUnavailable):
                pending.ambiguous = True  # no clear answer: CloudFront may have acted on it
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
        Find the batch whose create was cut short (or failed unclearly) but happened anyway.

        Without this, a create cut off after CloudFront accepted it would be
        reported as never sent, and its paths sent again by a re-run.  Best
        effort, at most `RECOVERY_TIMEOUT` seconds: on failure the
        CallerReference is logged, so the invalidation can be found by hand,
        and the paths are reported as not sent.
        """
        pending, self._in_doubt = self._in_doubt, None
        if pending is None:
            return
        engine = self.engine
        try:
            found = await engine.runtime.wait_for(
                engine.discovery.by_reference(
                    pending.batch, since=pending.since, tallies=(self.tally,)
                ),
                RECOVERY_TIMEOUT,
            )
        except Exception as exc:  # noqa: BLE001 - best effort: logged, and the paths kept
            log.warning(
                "%s: batch %d may have been created (CallerReference %s): %s",
                self.target_id,
                pending.index,
                pending.batch.caller_reference,
                exc,
            )
            found = None
        if found is None:
            self.work.give_back(pending.batch.paths)
            return
        if found.id not in engine.poller and not found.is_completed:
            engine.poller.follow(found, tally=self.tally)
        self._record(pending.index, pending.batch, found, 1, found.create_time)
        await self._announce(pending.index, found, 1)

    def unfinished(self) -> bool:
        """Whether something is missing: a path unsent, or (when waiting) not completed."""
        return bool(self.work) or (self.wait and not all(r.is_completed for r in self.results))

    def report(self, *, timed_out: bool = False) -> InvalidationReport:
        """The report of this call as far as it got; paths not sent are batches without one."""
        unsent = [
            BatchResult(index=i, paths=paths, caller_reference="")
            for i, paths in enumerate(
                self.work.chunks(self.engine.limits, self.engine.cap.size), len(self.results)
            )
        ]
        return InvalidationReport(
            distribution_id=self.target_id,
            batches=(*self.results, *unsent),
            input_count=self.plan.input_count,
            duplicates_dropped=self.plan.duplicates_dropped,
            covered_dropped=self.plan.covered_dropped,
            started_at=self.started_at,
            finished_at=self.engine.runtime.now(),
            api_calls=dict(+self.tally.calls),
            retries=self.tally.retries,
            timed_out=timed_out,
            waited=self.wait,
            collapsed=self.plan.collapsed,
            collateral=self.plan.collateral,
        )


def _key(path: str) -> str:
    """What makes two paths the same invalidation: cache tags compare case-insensitively."""
    return path.casefold() if path.startswith("#") else path
