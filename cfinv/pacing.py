"""
Client-side pacing of CreateInvalidation calls.

CloudFront allows about one CreateInvalidation every two seconds per AWS
account, with short bursts; faster callers get ``Throttling``.  A
`CreatePacer` is a token bucket that makes callers wait their turn
instead.  Share one pacer between every `Invalidator` of an
account (``invalidate_many`` does this for you).
"""

from __future__ import annotations

import asyncio

from cfinv._loop import LoopLocal
from cfinv.runtime import Runtime

__all__ = ["CreatePacer"]


class CreatePacer:
    """
    A token bucket for CreateInvalidation: ``rate`` calls per second, bursts of ``burst``.

    Waiters are served first come, first served.  After CloudFront answered
    ``Throttling`` anyway (another tool on the same account, say),
    `penalize` empties the bucket so every waiter backs off together.

    Args:
        rate: Calls per second on average (CloudFront's 0.5 by default).
        burst: Calls allowed at once after a quiet period (5).
        runtime: The clock and sleep it paces with (`cfinv.runtime.Runtime`;
            the real ones by default, a ``VirtualClock``'s in tests).
    """

    def __init__(
        self,
        rate: float = 0.5,
        burst: int = 5,
        *,
        runtime: Runtime | None = None,
    ) -> None:
        if rate <= 0:
            msg = f"rate must be > 0 calls per second, got {rate!r}"
            raise ValueError(msg)
        if burst < 1:
            msg = f"burst must be >= 1, got {burst!r}"
            raise ValueError(msg)
        self.rate = float(rate)
        self.burst = int(burst)
        self.runtime = runtime if runtime is not None else Runtime()
        self._tokens = float(burst)
        self._updated = self.runtime.monotonic()
        self._lock = LoopLocal(asyncio.Lock)

    def __repr__(self) -> str:
        return f"CreatePacer(rate={self.rate}, burst={self.burst})"

    def _refill(self) -> None:
        now = self.runtime.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> float:
        """
        Wait until a call may be made, and take its token.

        Returns:
            The seconds spent waiting.
        """
        waited = 0.0
        async with self._lock.get():
            while True:
                self._refill()
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                pause = (1.0 - self._tokens) / self.rate
                waited += pause
                await self.runtime.sleep(pause)

    def penalize(self) -> None:
        """Empty the bucket: CloudFront throttled a call, so everyone waits a full interval."""
        self._refill()
        self._tokens = min(self._tokens, 0.0)
