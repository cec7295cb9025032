"""
Discovery: what ListInvalidations tells about a distribution, read newest first.

Three questions are asked of it: which invalidations are in progress (another
writer's, which hold part of the in-progress budget), which invalidation
carries a given CallerReference (a create whose reply was lost), and which
invalidations an earlier run of the same deploy created.  Each walks the list
from the newest invalidation back to a horizon before the call began (`HORIZON`,
two hours, or `DEPLOY_HORIZON`, a day, for a deploy's), however many completed
invalidations are newer: an invalidation older than that is taken to have
completed long ago, or to belong to another deploy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING

from cfinv._gateway import PAGE_SIZE

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Container, Sequence

    from cfinv._gateway import Gateway, Tally
    from cfinv._references import References
    from cfinv._retrying import Retrier
    from cfinv.errors import AccessDenied
    from cfinv.models import Invalidation, InvalidationBatch, InvalidationSummary
    from cfinv.runtime import Runtime

__all__ = [
    "CLOCK_SKEW",
    "DEPLOY_HORIZON",
    "HORIZON",
    "MAX_PAGES",
    "Discovery",
    "discovery_denied_message",
]

log = logging.getLogger("cfinv")

#: How far back discovery reads: invalidations created earlier are taken to
#: have completed.  CloudFront gives no completion SLA; most finish within
#: minutes, the slowest reported took about 40 minutes.
HORIZON = dt.timedelta(hours=2)
#: Added to the horizon for a difference between this machine's clock and CloudFront's.
CLOCK_SKEW = dt.timedelta(minutes=5)
#: How far back a run of a deploy looks for what earlier runs of it created: a CI
#: job retried the next morning is still recognised.
DEPLOY_HORIZON = dt.timedelta(hours=24)
#: A backstop on pages read (100 invalidations each), should the horizon not end the walk.
MAX_PAGES = 50
#: GetInvalidation calls made at once when a survey reads a page of invalidations.
GETS_AT_ONCE = 8


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
        self,
        *,
        since: dt.datetime | None = None,
        horizon: dt.timedelta = HORIZON,
        tallies: Sequence[Tally] = (),
    ) -> AsyncIterator[InvalidationSummary]:
        """
        Every invalidation created since ``since`` minus ``horizon``, newest first.

        Args:
            since: When the caller's work began (default: now).
            horizon: How far before ``since`` to read.
            tallies: Count the calls.
        """
        start = self._runtime.now() if since is None else since
        oldest = start - horizon - CLOCK_SKEW
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

    async def get_many(
        self, invalidation_ids: Sequence[str], *, tallies: Sequence[Tally] = ()
    ) -> list[Invalidation]:
        """GetInvalidation of each, a few at a time, in the order given."""
        limit = asyncio.Semaphore(GETS_AT_ONCE)

        async def one(invalidation_id: str) -> Invalidation:
            async with limit:
                return await self.get(invalidation_id, tallies=tallies)

        return list(await asyncio.gather(*(one(i) for i in invalidation_ids)))

    async def survey(
        self, known: Container[str], references: References, *, tallies: Sequence[Tally] = ()
    ) -> tuple[list[Invalidation], list[Invalidation]]:
        """
        This deploy's invalidations back to `DEPLOY_HORIZON`, and others' in progress.

        Every invalidation of the period is read (a summary carries no
        CallerReference), a page at a time, a few reads at once.

        Args:
            known: Ids already followed (not counted again as others').
            references: Tells this deploy's CallerReferences.
            tallies: Count the calls.

        Returns:
            (this deploy's invalidations, oldest first; others' in progress).
        """
        deploy: list[Invalidation] = []
        others: list[Invalidation] = []
        page: list[str] = []

        async def read() -> None:
            for found in await self.get_many(page, tallies=tallies):
                if references.of_deploy(found.batch.caller_reference):
                    deploy.append(found)
                elif not found.is_completed and found.id not in known:
                    others.append(found)
            page.clear()

        async for summary in self.summaries(horizon=DEPLOY_HORIZON, tallies=tallies):
            page.append(summary.id)
            if len(page) >= PAGE_SIZE:
                await read()
        await read()
        deploy.sort(key=lambda invalidation: invalidation.create_time)
        return deploy, others

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


def discovery_denied_message(gateway: Gateway, denied: AccessDenied, deploy_id: str | None) -> str:
    """The one warning when CloudFront refuses discovery: what is lost, and what to do."""
    operation = denied.operation or gateway.list_operation
    lost = "invalidations other writers have in progress are not known"
    if deploy_id is not None:
        lost += f", nor what earlier runs of deploy {deploy_id} created (every path is sent)"
    return (
        f"{gateway.context}: {operation} was denied (AccessDenied); going on without "
        f"discovery: {lost}.  A create that does not fit is refused with "
        "TooManyInvalidationsInProgress, and cfinv waits and retries.  Allow "
        f"cloudfront:{gateway.list_operation} and cloudfront:{gateway.get_operation}, or "
        "pass discovery=False (--no-discovery) to skip discovery without this warning."
    )
