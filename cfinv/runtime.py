"""
Everything in cfinv that depends on time or chance, as one injectable value.

The engine (`Invalidator`, its poller and the `CreatePacer`) and the
test emulator (`cfinv.testing.CloudFrontEmulator`) read the clocks, sleep and
draw random numbers only through a `Runtime`.  The default is the real
thing; `cfinv.testing.VirtualClock` gives one whose time passes only when
everything waits, so that a test of a fifteen-minute deploy runs in
milliseconds and does not depend on how fast the machine is:

    async with VirtualClock() as clock:
        inv = Invalidator("EDFDVBD6EXAMPLE", runtime=clock.runtime(seed=1))
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from typing import TYPE_CHECKING, TypeVar

import attrs

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["Runtime", "utcnow"]

T = TypeVar("T")


def utcnow() -> dt.datetime:
    """The real current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def _new_random() -> random.Random:
    return random.Random()  # noqa: S311 - jitter and unique suffixes, not secrets


@attrs.frozen
class Runtime:
    """
    Clocks, sleep and randomness, injected wherever cfinv waits or draws lots.

    The value is immutable; its random source is the one stateful part, so two
    components given the same `Runtime` draw from one stream.

    Attributes:
        monotonic: Seconds from an arbitrary origin that never go back
            (``time.monotonic``): measures ages, pauses and rates.
        now: The wall clock, timezone-aware UTC: creation times,
            CallerReferences, report times.
        sleep: Waits the given seconds (``asyncio.sleep``).
        random: The random source for jitter and unique suffixes.
    """

    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = utcnow
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: random.Random = attrs.field(factory=_new_random, eq=False)

    @classmethod
    def seeded(cls, seed: int) -> Runtime:
        """
        The real clocks with a seeded random source (reproducible jitter and references).

        Args:
            seed: Seeds the random source.
        """
        return cls(random=random.Random(seed))  # noqa: S311 - reproducible, not secret

    async def wait_for(self, awaitable: Awaitable[T], timeout: float | None) -> T:
        """
        Await ``awaitable``, cancelling it after ``timeout`` seconds of this runtime's time.

        Like ``asyncio.wait_for``, but the deadline is measured with `sleep`,
        so a virtual clock drives it too.

        Args:
            awaitable: What to wait for.
            timeout: Seconds; ``None`` waits as long as it takes.

        Raises:
            TimeoutError: The timeout passed first (the awaitable was cancelled).
        """
        if timeout is None:
            return await awaitable
        work = asyncio.ensure_future(awaitable)
        timer = asyncio.ensure_future(self.sleep(timeout))
        try:
            await asyncio.wait({work, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not work.done():
                work.cancel()
            await asyncio.gather(work, timer, return_exceptions=True)
        if work.cancelled() and timer.done() and not timer.cancelled():
            msg = f"timed out after {timeout:g}s"
            raise TimeoutError(msg)
        return work.result()
