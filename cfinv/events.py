"""
Progress events: what an `Invalidator` is doing, as typed values.

Pass ``on_event=callback`` (a function or a coroutine function) to receive
them; each is also logged through the ``cfinv`` logger.  Events never carry
credentials.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cfinv.models import Invalidation, InvalidationStatus
    from cfinv.paths import Plan
    from cfinv.report import InvalidationReport

__all__ = [
    "Completed",
    "Event",
    "Finished",
    "Planned",
    "Polled",
    "Retrying",
    "Submitted",
    "WaitingForCapacity",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@attrs.frozen
class Event:
    """
    The base of every event.

    Attributes:
        distribution_id: The distribution (or distribution tenant) concerned.
        time: When it happened (UTC).
    """

    distribution_id: str
    time: dt.datetime = attrs.field(factory=_now, kw_only=True, repr=False)


@attrs.frozen
class Planned(Event):
    """
    The paths were normalised, deduplicated and freed of paths a wildcard covers.

    Attributes:
        plan: The plan, with its batches and counts.
    """

    plan: Plan = attrs.field(repr=False)

    @property
    def batches(self) -> int:
        """
        How many batches an idle distribution would take.

        The Invalidator cuts each batch when it sends it, to the capacity
        free then, so with other writers around it may send more.
        """
        return len(self.plan.batches)


@attrs.frozen
class WaitingForCapacity(Event):
    """
    The next batch waits for in-progress invalidations to complete: too little is free.

    Attributes:
        batch: The index the next batch will have (batches are numbered as sent).
        files: File paths left to send, up to a full batch.
        wildcards: Wildcard paths left to send, up to a full batch.
        in_progress_files: File paths in progress on the distribution, as known.
        in_progress_wildcards: Wildcard paths in progress, as known.
        refused: Whether CloudFront refused the batch with
            ``TooManyInvalidationsInProgress`` (another writer holds capacity).
    """

    batch: int
    files: int
    wildcards: int
    in_progress_files: int
    in_progress_wildcards: int
    refused: bool = False


@attrs.frozen
class Submitted(Event):
    """
    CloudFront accepted a batch.

    Attributes:
        batch: The batch's index (batches are numbered as they are sent).
        invalidation: The invalidation it created.
        attempts: How many calls it took (more than 1 after retries).
    """

    batch: int
    invalidation: Invalidation
    attempts: int = 1


@attrs.frozen
class Retrying(Event):
    """
    A call failed in a way worth retrying; cfinv waits, then tries again.

    Attributes:
        operation: The API operation, e.g. ``CreateInvalidation``.
        error: What went wrong (a cfinv error).
        attempt: The attempt that failed (1 for the first call).
        delay: Seconds until the next attempt.
        batch: The batch concerned, for creates.
    """

    operation: str
    error: Exception
    attempt: int
    delay: float
    batch: int | None = None


@attrs.frozen
class Polled(Event):
    """
    cfinv asked CloudFront for the status of in-flight invalidations.

    Attributes:
        operation: ``GetInvalidation`` or ``ListInvalidations``.
        statuses: Invalidation id -> status, for those this call answered.
    """

    operation: str
    statuses: Mapping[str, InvalidationStatus]


@attrs.frozen
class Completed(Event):
    """
    An invalidation reached ``Completed``.

    Attributes:
        invalidation: The invalidation, as last reported.
        batch: The batch's index, or ``None`` for one created elsewhere.
        seconds: Seconds from its creation (as seen by cfinv) to the poll that saw it done.
    """

    invalidation: Invalidation
    batch: int | None
    seconds: float


@attrs.frozen
class Finished(Event):
    """
    ``invalidate()`` is done: every batch completed, or it stopped early (see the report).

    Attributes:
        report: The report it returns (or the one its error carries).
        error: The error ``invalidate()`` raises because a call failed for
            good (a `cfinv.CloudFrontError`, say), or ``None``.  A timeout
            shows in ``report.timed_out``.
    """

    report: InvalidationReport = attrs.field(repr=False)
    error: Exception | None = attrs.field(default=None, kw_only=True)
