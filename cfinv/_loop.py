"""Asyncio primitives that follow the running event loop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["LoopLocal"]

T = TypeVar("T")


class LoopLocal(Generic[T]):
    """
    One ``T`` per event loop, made on first use in that loop.

    asyncio's locks and events belong to the loop that first waits on them; an
    object that outlives one ``asyncio.run()`` (an Invalidator or a pacer kept
    in a module, say) gets fresh ones in the next loop instead of failing with
    "bound to a different event loop".
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._value: T | None = None

    def get(self) -> T:
        """The ``T`` of the running loop."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._value is None:
            self._loop, self._value = loop, self._factory()
        return self._value
