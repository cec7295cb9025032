"""
``VirtualClock``: time that passes only when every task waits, for fast, exact tests.

A virtual clock gives a `cfinv.runtime.Runtime` whose ``sleep`` waits on
virtual time.  Used as ``async with``, it watches the running event loop: when
nothing is ready to run and no socket has data waiting, it jumps to the moment
the earliest virtual sleep ends.  Real I/O on the loop (an emulator over
loopback HTTP, a real aiobotocore client) goes on as usual, and a test of a
fifteen-minute wait takes milliseconds and gives the same result on a fast
machine and on a loaded one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import math
import os
import random
from typing import TYPE_CHECKING, Any

from cfinv.runtime import Runtime

if TYPE_CHECKING:
    import selectors
    from types import TracebackType

__all__ = ["VirtualClock"]

#: Lets other threads and the kernel run for a moment (not on every platform).
_yield_cpu = getattr(os, "sched_yield", lambda: None)

#: Where the virtual wall clock starts unless told otherwise: a fixed moment,
#: so that times, CallerReferences and ids repeat from run to run.
DEFAULT_START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


class VirtualClock:
    """
    A clock for tests: virtual seconds that pass at once when everything waits.

    Give its `runtime` to the code under test (an `cfinv.Invalidator`, a
    `cfinv.CreatePacer`, a `CloudFrontEmulator`) and enter it with
    ``async with``: from then on, whenever every task of the event loop waits
    (for a virtual sleep, a future, a socket with nothing to read), the clock
    jumps to the end of the earliest virtual sleep.  One clock can drive the
    client and the emulator together, so an invalidation that takes fifteen
    virtual minutes completes in the blink of an eye, exactly on time:

        async with VirtualClock() as clock:
            async with CloudFrontEmulator(latency=900, runtime=clock.runtime()) as emu:
                inv = Invalidator(dist, endpoint_url=emu.endpoint_url, runtime=clock.runtime())
                report = await inv.invalidate(["/index.html"])
            assert clock.elapsed >= 900

    Without ``async with`` the clock moves only when `advance` is called.

    The jump needs asyncio's selector event loop (the default on Linux and
    macOS).  It waits for work the loop handed to a thread
    (``run_in_executor``, ``asyncio.to_thread``), but not for other threads or
    processes: run the emulator in the same event loop (``async with``), not
    in a thread or a subprocess.

    Args:
        start: The wall-clock time the clock starts at (aware; default
            2026-01-01 12:00 UTC, so runs repeat exactly).
    """

    def __init__(self, *, start: dt.datetime | None = None) -> None:
        start = DEFAULT_START if start is None else start
        if start.tzinfo is None:
            msg = f"start must be timezone-aware, got {start!r}"
            raise ValueError(msg)
        self._start = start.astimezone(dt.timezone.utc)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._attached: tuple[asyncio.AbstractEventLoop, Any] | None = None
        self._threads = 0  # executor jobs started by the attached loop and not yet back
        self.jumps = 0

    def __repr__(self) -> str:
        state = "running" if self._attached else "manual"
        return f"<VirtualClock {self.now().isoformat()} (+{self._elapsed:g}s) {state}>"

    # --- reading ---------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the clock was made."""
        return self._elapsed

    def monotonic(self) -> float:
        """Virtual monotonic seconds (the same as `elapsed`)."""
        return self._elapsed

    def now(self) -> dt.datetime:
        """The virtual wall-clock time, aware UTC."""
        return self._start + dt.timedelta(seconds=self._elapsed)

    def runtime(self, *, seed: int | None = None) -> Runtime:
        """
        A `cfinv.runtime.Runtime` on this clock.

        Args:
            seed: Seeds its random source, for repeatable jitter, ids and
                CallerReferences (default: unseeded).
        """
        rng = random.Random(seed)  # noqa: S311 - test randomness, not secrets
        return Runtime(monotonic=self.monotonic, now=self.now, sleep=self.sleep, random=rng)

    # --- waiting ---------------------------------------------------------------------

    async def sleep(self, seconds: float) -> None:
        """
        Wait ``seconds`` of virtual time.

        Args:
            seconds: How long; zero or less only yields to the event loop.
        """
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A pause too short to change the float still moves time on, by the
        # smallest step, so that a caller waiting for "later" gets there.
        deadline = max(self._elapsed + seconds, math.nextafter(self._elapsed, math.inf))
        heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """
        Move the clock forward by hand, waking every sleep that ends by then.

        Args:
            seconds: How far (not negative).
        """
        if seconds < 0:
            msg = f"the clock cannot go back: advance({seconds!r})"
            raise ValueError(msg)
        target = self._elapsed + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            self._wake_next()
        self._elapsed = target

    def _pending(self) -> bool:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled while asleep
        return bool(self._sleepers)

    def _wake_next(self) -> None:
        """Jump to the earliest sleep's end and wake every sleep ending then."""
        if not self._pending():
            return
        deadline = self._sleepers[0][0]
        self._elapsed = max(self._elapsed, deadline)
        while self._sleepers and self._sleepers[0][0] <= deadline:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
        self.jumps += 1

    # --- driving the event loop ---------------------------------------------------------

    async def __aenter__(self) -> VirtualClock:
        self.attach()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.detach()

    def attach(self) -> None:
        """
        Let the clock jump whenever the running event loop is idle (what ``async with`` does).

        Raises:
            RuntimeError: No running loop, not a selector loop, or a clock is
                already attached to it.
        """
        loop = asyncio.get_running_loop()
        selector: selectors.BaseSelector | None = getattr(loop, "_selector", None)
        if selector is None:
            msg = (
                f"VirtualClock needs asyncio's selector event loop; {type(loop).__name__} "
                "has none (uvloop and the Windows proactor loop are not supported)"
            )
            raise RuntimeError(msg)
        if self._attached is not None or "select" in vars(selector):
            msg = "a VirtualClock is already attached to this event loop"
            raise RuntimeError(msg)
        real_select = selector.select
        real_run_in_executor = loop.run_in_executor

        def run_in_executor(executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:  # noqa: ANN401
            # Work in a thread (aiobotocore builds its SSL contexts in one, DNS
            # look-ups run in one) is real: no jump until it is back.
            future = real_run_in_executor(executor, func, *args)
            self._threads += 1
            future.add_done_callback(self._thread_done)
            return future

        def select(timeout: float | None = None) -> list[Any]:
            if timeout is not None and timeout <= 0:
                return real_select(timeout)  # the loop has work: no jump
            events = real_select(0)
            if events or self._threads or not self._pending():
                return events or real_select(timeout)
            # Nothing to do and nothing on any socket.  Give a peer on loopback a
            # last chance to deliver (its bytes may be in flight in the kernel).
            _yield_cpu()
            events = real_select(0)
            if events:
                return events
            self._wake_next()
            return []

        selector.select = select  # type: ignore[method-assign]
        loop.run_in_executor = run_in_executor  # type: ignore[method-assign,assignment]
        self._attached = (loop, selector)

    def _thread_done(self, _future: asyncio.Future[Any]) -> None:
        self._threads -= 1

    def detach(self) -> None:
        """Stop jumping: time moves only with `advance` again (sleeps still pending wait for it)."""
        attached, self._attached = self._attached, None
        if attached is not None:
            loop, selector = attached
            del selector.select
            del loop.run_in_executor
