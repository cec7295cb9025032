"""
The poller: follows in-flight invalidations of one distribution until they complete.

One poller serves every ``invalidate()`` and ``wait()`` call of an
`Invalidator`, as a task that runs while calls do.  Each invalidation has
its own schedule (see `PollPolicy`); when two or more are due, one
ListInvalidations page answers for all of them instead of a GetInvalidation
each.  When an
invalidation completes, its share of the budget is released at once, so the
next batch can go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import TYPE_CHECKING

import attrs

from cfinv._gateway import PAGE_SIZE
from cfinv._loop import LoopLocal
from cfinv.errors import AccessDenied, CfinvError, NoSuchInvalidation
from cfinv.events import Completed, Polled
from cfinv.models import Invalidation, InvalidationStatus, InvalidationSummary
from cfinv.policies import CompletionWindow

if TYPE_CHECKING:
    from cfinv._budget import Budget
    from cfinv._emitter import Emitter
    from cfinv._gateway import Gateway, Tally
    from cfinv._retrying import Retrier
    from cfinv.policies import PollPolicy
    from cfinv.runtime import Runtime

__all__ = ["Poller"]

log = logging.getLogger("cfinv")


@attrs.define
class _Tracked:
    invalidation: Invalidation
    files: int
    wildcards: int
    ours: bool  # created by this Invalidator just now: its timing teaches the schedule
    batch: int | None
    created: float  # monotonic seconds
    future: asyncio.Future[Invalidation]
    early: list[float]  # ages (seconds) of the first polls, learned or default
    tally: Tally | None  # the figures of the call that follows it
    next_poll: float = 0.0
    last_in_progress: float = 0.0  # age at the last poll that saw it InProgress


class Poller:
    """
    Follows invalidations until ``Completed``, releasing budget and resolving futures.

    Args:
        gateway: The CloudFront calls.
        budget: The distribution's in-progress budget.
        policy: The polling schedule.
        runtime: Clock, sleep and jitter.
        retrier: Runs each status call under the retry policy.
        emitter: Receives `Polled` and `Completed` events.
    """

    def __init__(
        self,
        *,
        gateway: Gateway,
        budget: Budget,
        policy: PollPolicy,
        runtime: Runtime,
        retrier: Retrier,
        emitter: Emitter,
    ) -> None:
        self._api = gateway
        self._budget = budget
        self._policy = policy
        self._runtime = runtime
        self._retrying = retrier
        self._emitter = emitter
        self._items: dict[str, _Tracked] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = LoopLocal(asyncio.Event)
        self.window = CompletionWindow()
        #: Follow other writers' invalidations a List shows (off without discovery).
        self.adopting = True
        #: ListInvalidations was denied: poll each invalidation with GetInvalidation.
        self.list_denied = False

    def start(self) -> None:
        """Poll in a task of the running loop, unless it already does."""
        task = self._task
        if task is not None and not task.done():
            return
        if task is not None and not task.cancelled():
            task.exception()  # seen: the calls it failed have reported it
        self._task = asyncio.create_task(self.run(), name=f"cfinv-poller-{self._api.target_id}")

    async def stop(self) -> None:
        """Stop polling; what is followed stays followed for the next `start`."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def __contains__(self, invalidation_id: object) -> bool:
        return invalidation_id in self._items

    def future(self, invalidation_id: str) -> asyncio.Future[Invalidation]:
        """The future of a followed invalidation (``KeyError`` if not followed)."""
        return self._items[invalidation_id].future

    def current(self, invalidation_id: str) -> Invalidation | None:
        """A followed invalidation as last seen, or None if not followed (any more)."""
        tracked = self._items.get(invalidation_id)
        return None if tracked is None else tracked.invalidation

    def track(
        self,
        invalidation: Invalidation,
        *,
        files: int,
        wildcards: int,
        ours: bool,
        batch: int | None = None,
        age: float = 0.0,
        tally: Tally | None = None,
    ) -> asyncio.Future[Invalidation]:
        """
        Follow ``invalidation`` until it completes; the future resolves then.

        Every followed invalidation holds its share of the budget until seen
        completed.  For ``ours`` the caller acquired it before sending; for
        others (another writer's, found running) it is taken here.

        Args:
            invalidation: As last reported by CloudFront.
            files: Its file paths.
            wildcards: Its wildcard paths.
            ours: Whether this Invalidator just created it.
            batch: Its batch index, for events.
            age: Seconds since it was created, for one found already running.
            tally: Counts the status calls made for it.
        """
        existing = self._items.get(invalidation.id)
        if existing is not None:
            if ours:
                # Already followed (found by a List before the create's reply came
                # back): it holds its share once; give the caller's back, and
                # follow it as ours from now on.
                self._budget.release(files, wildcards)
                existing.ours, existing.batch = True, batch
                existing.tally = existing.tally or tally
            return existing.future
        future: asyncio.Future[Invalidation] = asyncio.get_running_loop().create_future()
        if invalidation.is_completed:
            if ours:
                self._budget.release(files, wildcards)
            future.set_result(invalidation)
            return future
        if not ours:
            self._budget.occupy(files, wildcards)
        learned = self.window.plan() if self._policy.learn else []
        if ours:
            early = learned or [self._policy.first_delay(self._runtime.random)]
        else:
            # Another writer's on the same distribution takes about as long as
            # ours: poll it when ours are seen to complete, if that is still ahead.
            early = [at for at in learned if at > age]
        tracked = _Tracked(
            invalidation=invalidation,
            files=files,
            wildcards=wildcards,
            ours=ours,
            batch=batch,
            created=self._runtime.monotonic() - age,
            future=future,
            early=early,
            tally=tally,
        )
        self._schedule(tracked)
        self._items[invalidation.id] = tracked
        self._wake.get().set()
        if self._task is not None and self._task.done():
            self.start()  # it died (and failed what it followed): follow this one anew
        return future

    def follow(
        self, invalidation: Invalidation, *, tally: Tally | None = None
    ) -> asyncio.Future[Invalidation]:
        """Follow one this Invalidator did not just create (its budget share is taken here)."""
        age = max(0.0, (self._runtime.now() - invalidation.create_time).total_seconds())
        paths = invalidation.batch.paths
        return self.track(
            invalidation,
            files=paths.files,
            wildcards=paths.wildcards,
            ours=False,
            age=age,
            tally=tally,
        )

    def _schedule(self, tracked: _Tracked) -> None:
        now = self._runtime.monotonic()
        # Compared as absolute times, as `run` compares them: an early poll
        # whose moment has come (even to within rounding) is spent, so the
        # next poll always lies in the future and polling cannot spin.
        while tracked.early and tracked.created + tracked.early[0] <= now:
            tracked.early.pop(0)
        if tracked.early:
            tracked.next_poll = tracked.created + tracked.early[0]
        else:
            tracked.next_poll = now + self._pause(now - tracked.created)

    def _replan(self) -> None:
        """The window narrowed: poll what is followed at the new window's points, if sooner."""
        plan = self.window.plan()
        now = self._runtime.monotonic()
        for tracked in self._items.values():
            age = now - tracked.created
            tracked.early = [at for at in plan if at > age]
            before = tracked.next_poll
            self._schedule(tracked)
            if before > now:  # never later than it already was
                tracked.next_poll = min(before, tracked.next_poll)

    def _pause(self, age: float) -> float:
        """
        Seconds to the next poll of an invalidation of ``age`` seen in progress.

        The policy's schedule, except just past the time completed ones took
        (the learned window's end): there it may complete at any moment, so it
        is polled more closely, a pause growing with how overdue it is, for as
        long again as the window is wide.
        """
        policy, rng = self._policy, self._runtime.random
        pause = policy.next_delay(age, rng)
        window = self.window
        if policy.learn and window.hi is not None:
            overdue = age - window.hi
            lo = window.lo if window.lo is not None else 0.9 * window.hi
            if 0 <= overdue <= max(window.hi - lo, window.RESOLUTION):
                close = max(window.RESOLUTION, policy.growth * overdue)
                pause = min(pause, close * (1.0 + rng.uniform(0.0, policy.jitter)))
        return pause

    async def run(self) -> None:
        """
        Poll until cancelled; sleeps while nothing is in flight.

        Polling is harmless to repeat, so a call that still fails after the
        retry policy gave up only postpones the next poll.  An error no retry
        can fix (access denied, no such distribution) fails everyone waiting,
        and polling goes on for whatever is followed next.
        """
        self._adopt_loop()
        wake = self._wake.get()
        try:
            while True:
                if not self._items:
                    wake.clear()
                    await wake.wait()
                    continue
                due_at = min(t.next_poll for t in self._items.values())
                pause = due_at - self._runtime.monotonic()
                if pause > 0:
                    await self._nap(pause)
                    continue
                now = self._runtime.monotonic()
                due = [t for t in self._items.values() if t.next_poll <= now]
                # Others due within the shortest interval come along: one
                # ListInvalidations answers for all of them at once.
                soon = [
                    t
                    for t in self._items.values()
                    if now < t.next_poll <= now + self._policy.min_interval
                ]
                if soon and len(due) == 1:
                    due += soon
                try:
                    await self._poll(due)
                except CfinvError as exc:
                    if not exc.retryable:
                        self.fail(exc)
                        continue
                    log.warning(
                        "polling %s failed (%s); trying again later", self._api.target_id, exc
                    )
                    for tracked in due:
                        tracked.next_poll = self._runtime.monotonic() + self._policy.max_interval
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug: fail loudly rather than hang the callers
            self.fail(exc)
            raise

    def _adopt_loop(self) -> None:
        """Followed invalidations from an earlier event loop get futures of this one."""
        loop = asyncio.get_running_loop()
        for tracked in self._items.values():
            if tracked.future.get_loop() is not loop:
                tracked.future = loop.create_future()

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if a new invalidation arrives to be followed."""
        wake = self._wake.get()
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await self._runtime.wait_for(wake.wait(), seconds)

    async def _poll(self, due: list[_Tracked]) -> None:
        # One ListInvalidations page answers for everything on it, and carries no
        # paths: it is the cheaper question for two or more invalidations, and for
        # one whose GetInvalidation answer would repeat more paths than a page holds.
        big = any(t.files + t.wildcards > PAGE_SIZE for t in due)
        if (len(due) >= 2 or big) and not self.list_denied:  # noqa: PLR2004 - two or more
            due = await self._poll_by_list(due)
        for tracked in due:
            await self._get(tracked)

    async def _poll_by_list(self, due: list[_Tracked]) -> list[_Tracked]:
        """Update what one ListInvalidations page answers for; return the due ones it did not."""
        tallies = _tallies(due)
        try:
            summaries, _ = await self._retrying(
                self._api.list_operation,
                lambda: self._api.list_page(tallies=tallies),
                tallies=tallies,
            )
        except AccessDenied as denied:
            if type(denied) is not AccessDenied:
                raise  # bad credentials: nothing else will work either
            # A policy without List: GetInvalidation answers for each instead.
            self.list_denied = True
            log.info(
                "%s: %s was denied; polling with %s instead",
                self._api.context,
                self._api.list_operation,
                self._api.get_operation,
            )
            return due
        answered = {s.id: s.status for s in summaries}
        await self._emitter.emit(
            Polled(
                self._api.target_id,
                operation=self._api.list_operation,
                statuses={i: answered[i] for i in self._items if i in answered},
            )
        )
        # Completions first: what they teach schedules the ones still running.
        found = [t for t in self._items.values() if t.invalidation.id in answered]
        found.sort(key=lambda t: not answered[t.invalidation.id].is_completed)
        for tracked in found:
            status = answered[tracked.invalidation.id]
            await self._update(tracked, attrs.evolve(tracked.invalidation, status=status))
        await self._adopt(summaries, tallies)
        return [t for t in due if t.invalidation.id not in answered]

    async def _adopt(
        self, summaries: list[InvalidationSummary], tallies: tuple[Tally, ...]
    ) -> None:
        """
        Follow invalidations in progress that a List showed and nobody follows yet.

        They are other writers' (or this Invalidator's own, whose create reply
        is still on its way: `track` then makes them ours).  Following them
        counts them against the budget before a create collides with them.
        """
        for summary in summaries:
            if not self.adopting:
                return
            if summary.status.is_completed or summary.id in self._items:
                continue
            try:
                found = await self._retrying(
                    self._api.get_operation,
                    functools.partial(self._api.get, summary.id, tallies=tallies),
                    tallies=tallies,
                )
            except AccessDenied as denied:
                if type(denied) is not AccessDenied:
                    raise
                self.adopting = False  # ours are polled by List; others stay unknown
                log.warning(
                    "%s: %s was denied; invalidations of other writers are not followed",
                    self._api.context,
                    self._api.get_operation,
                )
                return
            if found.is_completed or found.id in self._items:
                continue
            self.follow(found)
            log.info("%s: following %s, another writer's, in progress", self._api.context, found.id)

    async def _get(self, tracked: _Tracked) -> None:
        invalidation_id = tracked.invalidation.id
        try:
            tallies = _tallies([tracked])
            fresh = await self._retrying(
                self._api.get_operation,
                lambda: self._api.get(invalidation_id, tallies=tallies),
                tallies=tallies,
            )
        except NoSuchInvalidation as exc:
            # Only this one is wrong (e.g. a bad id given to wait()); the rest go on.
            self._drop(tracked)
            if not tracked.future.done():
                tracked.future.set_exception(exc)
            return
        await self._emitter.emit(
            Polled(
                self._api.target_id,
                operation=self._api.get_operation,
                statuses={invalidation_id: fresh.status},
            )
        )
        await self._update(tracked, fresh)

    async def _update(self, tracked: _Tracked, fresh: Invalidation) -> None:
        age = self._runtime.monotonic() - tracked.created
        tracked.invalidation = attrs.evolve(fresh, location=tracked.invalidation.location)
        if fresh.status is not InvalidationStatus.COMPLETED:
            tracked.last_in_progress = age
            self._schedule(tracked)
            return
        self._drop(tracked)
        if tracked.ours and self._policy.learn:
            self.window.observe(tracked.last_in_progress, age)
            self._replan()
        if not tracked.future.done():
            tracked.future.set_result(tracked.invalidation)
        await self._emitter.emit(
            Completed(
                self._api.target_id,
                invalidation=tracked.invalidation,
                batch=tracked.batch,
                seconds=age,
            )
        )

    def _drop(self, tracked: _Tracked) -> None:
        self._items.pop(tracked.invalidation.id, None)
        self._budget.release(tracked.files, tracked.wildcards)

    def fail(self, error: BaseException) -> None:
        """
        Polling cannot go on: fail every waiter with ``error`` and forget what was followed.

        What is forgotten gives its budget back; a later call rediscovers
        whatever is still in progress.
        """
        items, self._items = self._items, {}
        for tracked in items.values():
            self._budget.release(tracked.files, tracked.wildcards)
            if not tracked.future.done():
                tracked.future.set_exception(error)
                tracked.future.exception()  # retrieved: its caller may be gone already
        self._budget.fail(error)


def _tallies(tracked: list[_Tracked]) -> tuple[Tally, ...]:
    """The distinct tallies of the calls that follow these invalidations."""
    found: dict[int, Tally] = {}
    for item in tracked:
        if item.tally is not None:
            found.setdefault(id(item.tally), item.tally)
    return tuple(found.values())
