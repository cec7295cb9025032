"""
Discovery: what ListInvalidations tells about a distribution, read newest first.

Two questions are asked of it: which invalidations are in progress (another
writer's, which hold part of the in-progress budget), and which invalidation
carries a given CallerReference (a create whose reply was lost).  Both walk
the list from the newest invalidation back to `HORIZON` before the call
began, however many completed invalidations are newer: an invalidation older
than that is taken to have completed long ago.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Container, Sequence

    from cfinv._gateway import Gateway, Tally
    from cfinv._retrying import Retrier
    from cfinv.models import Invalidation, InvalidationBatch, InvalidationSummary
    from cfinv.runtime import Runtime

__all__ = ["CLOCK_SKEW", "HORIZON", "MAX_PAGES", "Discovery"]

log = logging.getLogger("cfinv")

#: How far back discovery reads: invalidations created earlier are taken to
#: have completed.  CloudFront gives no completion SLA; most finish within
#: minutes, the slowest reported took about 40 minutes.
HORIZON = dt.timedelta(hours=2)
#: Added to the horizon for a difference between this machine's clock and CloudFront's.
CLOCK_SKEW = dt.timedelta(minutes=5)
#: A backstop on pages read (100 invalidations each), should the horizon not end the walk.
MAX_PAGES = 50


class Discovery:
    """
    Reads a distribution's invalidations back to the horizon.

    Args:
        gateway: The CloudFront calls.
        retrier: Runs each call under the retry policy.
        runtime: The wall clock the horizon is measured from.
    """

    def __init__(self, gateway: Gateway, retrier: Retrier, runtime: Runtime) -> None:
        self._gateway = gateway
        self._retrier = retrier
        self._runtime = runtime

    async def summaries(
        self, *, since: dt.datetime | None = None, tallies: Sequence[Tally] = ()
    ) -> AsyncIterator[InvalidationSummary]:
        """
        Every invalidation created since ``since`` minus the horizon, newest first.

        Args:
            since: When the caller's work began (default: now).
            tallies: Count the calls.
        """
        start = self._runtime.now() if since is None else since
        oldest = start - HORIZON - CLOCK_SKEW
        marker = ""
        gateway = self._gateway
        for _ in range(MAX_PAGES):
            page, next_marker = await self._retrier(
                gateway.list_operation,
                functools.partial(gateway.list_page, marker=marker, tallies=tallies),
                tallies=tallies,
            )
            for summary in page:
                if summary.create_time < oldest:
                    return
                yield summary
            if not next_marker:
                return
            marker = next_marker
        log.warning(
            "%s: stopped reading ListInvalidations after %d pages", gateway.context, MAX_PAGES
        )

    async def get(self, invalidation_id: str, *, tallies: Sequence[Tally] = ()) -> Invalidation:
        """GetInvalidation under the retry policy."""
        gateway = self._gateway
        return await self._retrier(
            gateway.get_operation,
            lambda: gateway.get(invalidation_id, tallies=tallies),
            tallies=tallies,
        )

    async def in_progress(
        self, known: Container[str], *, tallies: Sequence[Tally] = ()
    ) -> list[Invalidation]:
        """
        The invalidations in progress that are not in ``known``, with their paths.

        A summary says only the status; GetInvalidation of each unknown one
        in progress tells how many paths it holds.

        Args:
            known: Ids already followed (not read again).
            tallies: Count the calls.
        """
        found = []
        async for summary in self.summaries(tallies=tallies):
            if summary.status.is_completed or summary.id in known:
                continue
            running = await self.get(summary.id, tallies=tallies)
            if not running.is_completed:
                found.append(running)
        return found

    async def by_reference(
        self, batch: InvalidationBatch, *, since: dt.datetime, tallies: Sequence[Tally] = ()
    ) -> Invalidation | None:
        """
        The invalidation created since ``since`` with ``batch``'s CallerReference and paths.

        One with the same reference but other paths is not ours: ``None``.

        Args:
            batch: The batch whose create may have happened.
            since: When its first create was sent.
            tallies: Count the calls.
        """
        async for summary in self.summaries(since=since, tallies=tallies):
            if summary.create_time < since - CLOCK_SKEW:
                return None
            candidate = await self.get(summary.id, tallies=tallies)
            if candidate.batch.caller_reference == batch.caller_reference:
                same = sorted(candidate.batch.paths.items) == sorted(batch.paths.items)
                return candidate if same else None
        return None
