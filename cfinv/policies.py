"""
How cfinv retries failed calls and how often it asks whether an invalidation is done.

Both policies are immutable values with documented defaults; the schedules
are pure functions of their inputs (plus a random source for the jitter), so
they are tested without any clock.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import random

__all__ = ["CompletionWindow", "PollPolicy", "RetryPolicy", "to_seconds"]


def to_seconds(value: float | dt.timedelta) -> float:
    """Convert a duration given as seconds or a ``timedelta`` to seconds (once, at the edge)."""
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    if seconds < 0:
        msg = f"a duration must not be negative, got {value!r}"
        raise ValueError(msg)
    return seconds


def _nonneg(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        msg = f"{attribute.name} must be >= 0, got {value!r}"
        raise ValueError(msg)


def _share(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        msg = f"{attribute.name} must be between 0 and 1, got {value!r}"
        raise ValueError(msg)


@attrs.frozen
class RetryPolicy:
    """
    Retries of throttled, failed (5xx) and dropped calls: exponential backoff with full jitter.

    Attempt ``n`` (counting from 1) that fails with a retryable error is
    followed by a pause drawn uniformly from ``[0, min(max_backoff, initial *
    2 ** (n - 1))]`` (AWS's "full jitter"), until ``attempts`` calls were made
    or the next pause would end after ``deadline`` seconds from the first
    call.  Creates are always retried with the same CallerReference, so a
    retry never creates a second invalidation.

    The defaults allow about a minute of trouble per call: enough to ride out
    a throttling burst or a short CloudFront incident, short enough that a
    deploy does not hang on an outage.  Only ``Throttling``, 5xx and
    transport errors are retried; everything else fails at once.

    Attributes:
        attempts: Calls at most, the first included (default 8).
        initial: The backoff ceiling after the first failure, in seconds (0.5).
        max_backoff: The largest ceiling for one pause, in seconds (20).
        deadline: No pause may end later than this many seconds after the
            first call (60).
    """

    attempts: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    initial: float = attrs.field(default=0.5, converter=to_seconds, validator=_nonneg)
    max_backoff: float = attrs.field(default=20.0, converter=to_seconds, validator=_nonneg)
    deadline: float = attrs.field(default=60.0, converter=to_seconds, validator=_nonneg)

    def backoff(self, failed_attempt: int, rng: random.Random) -> float:
        """
        The pause after attempt ``failed_attempt`` failed.

        Args:
            failed_attempt: The attempt that failed, 1 for the first call.
            rng: The random source of the jitter.
        """
        ceiling = min(self.max_backoff, self.initial * 2 ** (failed_attempt - 1))
        return rng.uniform(0.0, ceiling)

    @classmethod
    def none(cls) -> RetryPolicy:
        """No retries at all: every error surfaces at once (useful in tests)."""
        return cls(attempts=1)


@attrs.frozen
class PollPolicy:
    """
    When to ask CloudFront whether an invalidation has completed.

    The first poll comes ``first`` seconds after creation.  After that the
    pause grows with the invalidation's age: ``growth * age``, at least
    ``min_interval`` and at most ``max_interval``, each pause stretched by a
    random factor in ``[1, 1 + jitter]`` so that many deploys do not poll in
    lock-step.

    With ``learn`` (the default), cfinv learns from the invalidations it saw
    complete on this distribution: it knows each finished between its last
    ``InProgress`` poll and the poll that saw it done, and first polls the
    next ones inside that window (two thirds in, then its end) instead of
    starting the schedule from scratch; those still running just past the
    window are polled more closely for a while.  Other writers' invalidations
    in progress are polled by the same window, from their creation time.
    Invalidations of one deploy take about equally long, so later batches are
    usually seen done within a fraction of a second, with one or two calls.

    Why these defaults: CloudFront gives no completion SLA; most invalidations
    finish within one or two minutes, some take fifteen or more.  Polling at
    a share of the age keeps the extra wait after completion at about
    ``growth`` (a quarter) of the time already waited, so a quick invalidation
    is seen done within a second or two, while the number of calls grows only
    with the logarithm of the duration: about 16 polls for a 60-second
    invalidation.  ``max_interval`` caps the lateness for slow ones (about 46
    polls for 15 minutes, 30 s apart once two minutes old), where botocore's
    waiter polls every 20 s from the start and gives up after 10 minutes.
    When several invalidations are in flight, one ListInvalidations call
    answers for all of them.

    Attributes:
        first: Seconds from creation to the first poll (1).
        min_interval: The shortest pause between polls (1).
        growth: The pause as a share of the invalidation's age (0.25).
        max_interval: The longest pause between polls (30).
        jitter: The largest random stretch of a pause, as a share (0.1).
        learn: Whether to schedule first polls from completed ones (True).
    """

    first: float = attrs.field(default=1.0, converter=to_seconds, validator=_nonneg)
    min_interval: float = attrs.field(default=1.0, converter=to_seconds, validator=_nonneg)
    growth: float = attrs.field(default=0.25, validator=_nonneg)
    max_interval: float = attrs.field(default=30.0, converter=to_seconds, validator=_nonneg)
    jitter: float = attrs.field(default=0.1, validator=_share)
    learn: bool = True

    def first_delay(self, rng: random.Random) -> float:
        """
        Seconds from creation to the first poll, when nothing was learned yet.

        Args:
            rng: The random source of the jitter.
        """
        return self.first * (1.0 + rng.uniform(0.0, self.jitter))

    def next_delay(self, age: float, rng: random.Random) -> float:
        """
        Seconds until the next poll, after one that found the invalidation in progress.

        Args:
            age: Seconds since the invalidation was created, at that poll.
            rng: The random source of the jitter.
        """
        pause = min(self.max_interval, max(self.min_interval, self.growth * age))
        return pause * (1.0 + rng.uniform(0.0, self.jitter))


class CompletionWindow:
    """
    What completed invalidations taught about how long the next one will take.

    Each completion is known to lie between the last poll that saw it
    ``InProgress`` (``lo``) and the poll that saw it done (``hi``).  The
    window keeps the tightest bounds consistent with all of them; the next
    invalidation is first polled two thirds into the window, then at its end,
    so the window narrows with every invalidation when durations are alike.
    When durations vary, the end is the fastest completion seen.
    """

    #: A window narrower than this is not split any further (seconds).
    RESOLUTION = 0.05
    #: Where in the window the first poll goes.  The middle would see completions
    #: a little sooner on average; two thirds in saves a tenth of the polls
    #: (an invalidation done by then needs no second one) for 3 % more lateness.
    SPLIT = 2 / 3

    def __init__(self) -> None:
        self.lo: float | None = None
        self.hi: float | None = None

    def __repr__(self) -> str:
        return f"CompletionWindow(lo={self.lo}, hi={self.hi})"

    def observe(self, lo: float, hi: float) -> None:
        """Learn from one completion seen after ``hi`` seconds, still running at ``lo``."""
        self.hi = hi if self.hi is None else min(self.hi, hi)
        self.lo = lo if self.lo is None else max(self.lo, lo)
        if self.lo >= self.hi:
            # Durations vary: only the fastest completion is a safe bound.
            self.lo = None

    def plan(self) -> list[float]:
        """The ages (seconds) at which to first poll a new invalidation; empty if none learned."""
        if self.hi is None:
            return []
        if self.lo is None or self.hi - self.lo < self.RESOLUTION:
            return [self.hi]
        return [self.lo + self.SPLIT * (self.hi - self.lo), self.hi]
