"""
The in-progress budget of one distribution: 3,000 file paths and 15 wildcards at a time.

Batches acquire their share before they are sent and give it back when cfinv
sees them ``Completed``; invalidations of other writers occupy it too.
Waiters are served first come, first served, so a large batch is not starved.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from cfinv.models import Limits

__all__ = ["Budget"]


@attrs.define
class _Waiter:
    files: int
    wildcards: int
    future: asyncio.Future[None]


class Budget:
    """
    Capacity for in-progress invalidations on one distribution.

    Args:
        limits: The files and wildcards allowed in progress at once.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.files = 0
        self.wildcards = 0
        self._waiters: collections.deque[_Waiter] = collections.deque()

    def __repr__(self) -> str:
        return (
            f"<Budget files {self.files}/{self.limits.files}, "
            f"wildcards {self.wildcards}/{self.limits.wildcards}, {len(self._waiters)} waiting>"
        )

    def _fits(self, files: int, wildcards: int) -> bool:
        return (
            self.files + files <= self.limits.files
            and self.wildcards + wildcards <= self.limits.wildcards
        )

    async def acquire(
        self, files: int, wildcards: int, *, on_wait: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """
        Take ``files`` and ``wildcards`` of the budget, waiting until they fit.

        Args:
            files: File paths needed.
            wildcards: Wildcard paths needed.
            on_wait: Awaited once if the caller has to wait.
        """
        if not self._waiters and self._fits(files, wildcards):
            self.files += files
            self.wildcards += wildcards
            return
        waiter = _Waiter(files, wildcards, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            if on_wait is not None:
                await on_wait()
            await waiter.future
        except BaseException:
            if (
                waiter.future.done()
                and not waiter.future.cancelled()
                and not waiter.future.exception()
            ):
                # Granted just as we were cancelled: give it back.
                self.release(files, wildcards)
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
                self._grant()
            raise

    def occupy(self, files: int, wildcards: int) -> None:
        """Count an invalidation cfinv did not send (another writer's), even over the limits."""
        self.files += files
        self.wildcards += wildcards

    def release(self, files: int, wildcards: int) -> None:
        """Give capacity back (an invalidation completed) and wake whoever now fits."""
        self.files = max(0, self.files - files)
        self.wildcards = max(0, self.wildcards - wildcards)
        self._grant()

    def fail(self, error: BaseException) -> None:
        """Wake every current waiter with ``error``: nothing will release capacity for them."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_exception(error)

    def _grant(self) -> None:
        while self._waiters:
            head = self._waiters[0]
            if head.future.done():
                self._waiters.popleft()
                continue
            if not self._fits(head.files, head.wildcards):
                return
            self._waiters.popleft()
            self.files += head.files
            self.wildcards += head.wildcards
            head.future.set_result(None)
