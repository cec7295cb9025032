"""
The in-progress budget of one distribution: 3,000 file paths and 15 wildcards at a time.

Batches reserve their share before they are sent and give it back when cfinv
sees them ``Completed``; invalidations of other writers occupy it too.  A
caller does not ask for a fixed share: it says, through a ``pick`` function,
how much it would take of what is free, and the budget hands that over as soon
as ``pick`` accepts.  Callers are served first come, first served, so a large
batch is not starved by small ones.
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
    pick: Callable[[int, int], tuple[int, int] | None]
    future: asyncio.Future[tuple[int, int]]


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

    @property
    def free(self) -> tuple[int, int]:
        """(files, wildcards) that may go in progress now."""
        return (
            max(0, self.limits.files - self.files),
            max(0, self.limits.wildcards - self.wildcards),
        )

    def _offer(self, pick: Callable[[int, int], tuple[int, int] | None]) -> tuple[int, int] | None:
        free_files, free_wildcards = self.free
        share = pick(free_files, free_wildcards)
        if share is None:
            return None
        files, wildcards = share
        if not (0 <= files <= free_files and 0 <= wildcards <= free_wildcards):
            msg = f"pick() asked for {share}, more than is free ({self.free})"
            raise ValueError(msg)
        self.files += files
        self.wildcards += wildcards
        return share

    async def reserve(
        self,
        pick: Callable[[int, int], tuple[int, int] | None],
        *,
        on_wait: Callable[[], Awaitable[None]] | None = None,
    ) -> tuple[int, int]:
        """
        Wait until ``pick`` accepts a share of what is free, take it, and return it.

        Args:
            pick: Given (free files, free wildcards), the share to take, or
                ``None`` to wait until more is free.  Called again whenever
                capacity is released, while this caller is first in line.
            on_wait: Awaited once if the caller has to wait.

        Returns:
            The (files, wildcards) taken; give them back with `release`.
        """
        if not self._waiters:
            share = self._offer(pick)
            if share is not None:
                return share
        waiter = _Waiter(pick, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            if on_wait is not None:
                await on_wait()
            return await waiter.future
        except BaseException:
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None:
                self.release(*future.result())  # granted just as we were cancelled: give it back
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
                self._grant()
            raise

    def occupy(self, files: int, wildcards: int) -> None:
        """Count an invalidation cfinv did not send (another writer's), even over the limits."""
        self.files += files
        self.wildcards += wildcards

    def release(self, files: int, wildcards: int) -> None:
        """Give capacity back (an invalidation completed) and serve whoever now can go."""
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
            try:
                share = self._offer(head.pick)
            except Exception as exc:  # noqa: BLE001 - a broken pick fails its own caller only
                self._waiters.popleft()
                head.future.set_exception(exc)
                continue
            if share is None:
                return
            self._waiters.popleft()
            head.future.set_result(share)
