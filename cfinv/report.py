"""The result of ``Invalidator.invalidate()``: every batch, its invalidation and its times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from cfinv.models import format_timestamp

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from cfinv.models import Invalidation, Paths

__all__ = [
    "FREE_PATHS_PER_MONTH",
    "PRICE_PER_PATH",
    "BatchResult",
    "InvalidationReport",
    "cost_of",
]

#: CloudFront bills $0.005 per path beyond the first 1,000 paths each month (per account).
PRICE_PER_PATH = 0.005
FREE_PATHS_PER_MONTH = 1000


def cost_of(billable: int, *, paths_already_this_month: int = 0) -> float:
    """
    US dollars CloudFront charges for ``billable`` paths, at $0.005 a path beyond the free 1,000.

    Args:
        billable: Paths sent (a wildcard counts as one).
        paths_already_this_month: Paths the account invalidated earlier this month.
    """
    free_left = max(0, FREE_PATHS_PER_MONTH - paths_already_this_month)
    return max(0, billable - free_left) * PRICE_PER_PATH


@attrs.frozen
class BatchResult:
    """
    One batch of the plan and what became of it.

    Attributes:
        index: The batch's position: batches are numbered in the order they
            were sent, then come the paths never sent, cut as an idle
            distribution would take them.
        paths: Its paths.
        caller_reference: The CallerReference it was sent with (empty for
            paths never sent: they get one when they are).
        invalidation: The invalidation CloudFront created, as last seen;
            ``None`` if the batch was never accepted.
        submitted_at: When CloudFront accepted it (UTC).
        completed_at: When cfinv saw it ``Completed`` (UTC).
        attempts: CreateInvalidation calls it took (0 for one an earlier run made).
        resumed: Whether an earlier run of the same deploy created it (found
            by its CallerReference), so this call did not send it again.
    """

    index: int
    paths: Paths = attrs.field(repr=False)
    caller_reference: str
    invalidation: Invalidation | None = None
    submitted_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    attempts: int = 0
    resumed: bool = False

    @property
    def is_completed(self) -> bool:
        """Whether its invalidation is known to be ``Completed``."""
        return self.invalidation is not None and self.invalidation.is_completed


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


@attrs.frozen
class InvalidationReport:
    """
    What one ``invalidate()`` call did.

    Attributes:
        distribution_id: The distribution (or tenant) invalidated.
        batches: Every batch sent, with its invalidation and times, then the
            paths not sent (if the call stopped early) as batches without one.
        input_count: Paths given.
        duplicates_dropped: Paths dropped as duplicates after normalisation.
        covered_dropped: Paths dropped because a wildcard covers them.
        started_at: When ``invalidate()`` started (UTC).
        finished_at: When it returned (UTC).
        api_calls: Calls made per API operation for this call (retries
            included): its own creates and look-ups, and the status calls
            about its invalidations.  A ListInvalidations poll that answered
            for several concurrent calls on one ``Invalidator`` counts in each.
        retries: Calls that were retries of a failed call, counted the same way.
        timed_out: Whether the timeout ended it before everything completed.
        waited: Whether it waited for completion (``wait=True``).
        collapsed: Changed paths sent as part of a wildcard a budget chose.
        collateral: Unchanged paths of the tree the wildcards invalidate too
            (``None`` without a tree).
    """

    distribution_id: str
    batches: tuple[BatchResult, ...]
    input_count: int
    duplicates_dropped: int
    covered_dropped: int
    started_at: dt.datetime
    finished_at: dt.datetime
    api_calls: Mapping[str, int] = attrs.field(factory=dict)
    retries: int = 0
    timed_out: bool = False
    waited: bool = True
    collapsed: int = 0
    collateral: int | None = None

    @property
    def invalidations(self) -> tuple[Invalidation, ...]:
        """Every invalidation created, in batch order."""
        return tuple(b.invalidation for b in self.batches if b.invalidation is not None)

    @property
    def billable(self) -> int:
        """Paths sent (a wildcard counts as one) as CloudFront bills them, by earlier runs too."""
        return sum(b.paths.quantity for b in self.batches if b.invalidation is not None)

    @property
    def planned_paths(self) -> int:
        """Paths the call meant to send (sent or not)."""
        return sum(b.paths.quantity for b in self.batches)

    @property
    def completed(self) -> bool:
        """Whether every batch was sent and is ``Completed``."""
        return all(b.is_completed for b in self.batches)

    @property
    def pending(self) -> tuple[BatchResult, ...]:
        """Batches not known to be ``Completed`` (never sent, or still in progress)."""
        return tuple(b for b in self.batches if not b.is_completed)

    @property
    def unsent(self) -> tuple[BatchResult, ...]:
        """Batches CloudFront never accepted."""
        return tuple(b for b in self.batches if b.invalidation is None)

    @property
    def elapsed(self) -> float:
        """Seconds from start to finish."""
        return (self.finished_at - self.started_at).total_seconds()

    def estimated_cost(self, *, paths_already_this_month: int = 0) -> float:
        """
        US dollars CloudFront charges for the paths sent, at $0.005 per path.

        Args:
            paths_already_this_month: Paths the account invalidated earlier this
                month (the first 1,000 per month are free).
        """
        return cost_of(self.billable, paths_already_this_month=paths_already_this_month)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the ``cfinv invalidate`` command prints this)."""
        return {
            "DistributionId": self.distribution_id,
            "Completed": self.completed,
            "TimedOut": self.timed_out,
            "InputPaths": self.input_count,
            "DuplicatesDropped": self.duplicates_dropped,
            "CoveredDropped": self.covered_dropped,
            "Collapsed": self.collapsed,
            "Collateral": self.collateral,
            "BillablePaths": self.billable,
            "ElapsedSeconds": round(self.elapsed, 3),
            "ApiCalls": dict(self.api_calls),
            "Retries": self.retries,
            "Batches": [
                {
                    "Index": b.index,
                    "Paths": b.paths.quantity,
                    "CallerReference": b.caller_reference,
                    "InvalidationId": b.invalidation.id if b.invalidation else None,
                    "Status": b.invalidation.status.value if b.invalidation else "NotSent",
                    "SubmittedAt": _iso(b.submitted_at),
                    "CompletedAt": _iso(b.completed_at),
                    "Attempts": b.attempts,
                    "Resumed": b.resumed,
                }
                for b in self.batches
            ],
        }
