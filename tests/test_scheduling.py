"""Specs for the pure scheduling parts: retry and poll policies, the pacer, the budget."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfinv import CreatePacer, Limits, PollPolicy, RetryPolicy
from cfinv._budget import Budget
from cfinv.policies import CompletionWindow, to_seconds

if TYPE_CHECKING:
    from cfinv.testing import VirtualClock

# --- RetryPolicy ---------------------------------------------------------------------


@given(st.integers(1, 30), st.randoms(use_true_random=False))
def test_backoff_is_full_jitter_within_the_cap(attempt: int, rng: random.Random) -> None:
    """The pause after attempt n lies in [0, min(max_backoff, initial * 2**(n-1))]."""
    policy = RetryPolicy()
    pause = policy.backoff(attempt, rng)
    assert 0.0 <= pause <= min(policy.max_backoff, policy.initial * 2 ** (attempt - 1))


def test_retry_policy_defaults_and_validation() -> None:
    """Documented defaults; durations accept timedelta; nonsense is refused."""
    policy = RetryPolicy(deadline=dt.timedelta(minutes=2))
    assert (policy.attempts, policy.initial, policy.max_backoff, policy.deadline) == (
        8,
        0.5,
        20.0,
        120.0,
    )
    assert RetryPolicy.none().attempts == 1
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        to_seconds(-1)


# --- PollPolicy ----------------------------------------------------------------------


@given(st.floats(0, 10_000), st.randoms(use_true_random=False))
def test_poll_pause_grows_with_age_between_bounds(age: float, rng: random.Random) -> None:
    """The pause is growth * age, clamped to [min_interval, max_interval], stretched by jitter."""
    policy = PollPolicy()
    pause = policy.next_delay(age, rng)
    base = min(policy.max_interval, max(policy.min_interval, policy.growth * age))
    assert base <= pause <= base * (1 + policy.jitter)


def test_poll_counts_stay_logarithmic() -> None:
    """The documented figures: about 16 polls for 60 s, about 46 for 15 minutes."""
    policy = PollPolicy(jitter=0)
    rng = random.Random(0)

    def polls_until(done: float) -> int:
        age, count = policy.first_delay(rng), 1
        while age < done:
            age += policy.next_delay(age, rng)
            count += 1
        return count

    assert 14 <= polls_until(60) <= 18
    assert 44 <= polls_until(900) <= 48


@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.floats(0.01, 50)).map(lambda t: (t[0], t[0] + t[1])),
        min_size=1,
        max_size=10,
    )
)
def test_completion_window_plan_stays_inside_what_was_seen(
    windows: list[tuple[float, float]],
) -> None:
    """The learned first polls never come after the fastest completion seen."""
    learned = CompletionWindow()
    for lo, hi in windows:
        learned.observe(lo, hi)
    plan = learned.plan()
    fastest = min(hi for _, hi in windows)
    assert plan
    assert plan == sorted(plan)
    assert plan[-1] == fastest
    assert all(0 <= p <= fastest for p in plan)


def test_completion_window_narrows_for_equal_durations() -> None:
    """With durations alike, the window halves with each invalidation."""
    learned = CompletionWindow()
    assert learned.plan() == []
    learned.observe(4.0, 5.0)
    assert learned.plan() == [4.5, 5.0]
    learned.observe(4.5, 5.0)  # the middle poll saw it still running
    assert learned.plan() == [4.75, 5.0]
    learned.observe(4.5, 4.75)  # the middle poll saw it done
    assert learned.plan() == [4.625, 4.75]


# --- CreatePacer -------------------------------------------------------------------


async def test_pacer_allows_a_burst_then_the_rate(virtual: VirtualClock) -> None:
    """Five calls at once, then one every two seconds, on virtual time."""
    pacer = CreatePacer(0.5, 5, runtime=virtual.runtime())
    waits = [await pacer.acquire() for _ in range(8)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == pytest.approx([2.0, 2.0, 2.0])
    assert virtual.elapsed == pytest.approx(6.0)


async def test_pacer_penalty_makes_everyone_wait(virtual: VirtualClock) -> None:
    """After a Throttling answer the bucket is empty: the next call waits a full interval."""
    pacer = CreatePacer(0.5, 5, runtime=virtual.runtime())
    pacer.penalize()
    assert await pacer.acquire() == pytest.approx(2.0)


async def test_pacer_serves_concurrent_callers_in_turn(virtual: VirtualClock) -> None:
    """Concurrent callers are spaced at the rate, not released together."""
    pacer = CreatePacer(1.0, 1, runtime=virtual.runtime())
    stamps: list[float] = []

    async def call() -> None:
        await pacer.acquire()
        stamps.append(virtual.monotonic())

    await asyncio.gather(*(call() for _ in range(4)))
    assert stamps == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_pacer_validates_its_arguments() -> None:
    """A zero rate or burst is a clear error."""
    with pytest.raises(ValueError, match="rate"):
        CreatePacer(0)
    with pytest.raises(ValueError, match="burst"):
        CreatePacer(1, 0)


# --- Budget -------------------------------------------------------------------------


async def test_budget_waits_until_capacity_is_released() -> None:
    """A batch that does not fit waits; a release lets it in at once."""
    budget = Budget(Limits(files=10, wildcards=2))
    await budget.acquire(8, 1)
    waiter = asyncio.ensure_future(budget.acquire(5, 0))
    await asyncio.sleep(0)
    assert not waiter.done()
    budget.release(8, 1)
    await waiter
    assert (budget.files, budget.wildcards) == (5, 0)


async def test_budget_counts_wildcards_independently() -> None:
    """Wildcards have their own limit, whatever the files do."""
    budget = Budget(Limits(files=10, wildcards=2))
    await budget.acquire(0, 2)
    blocked = asyncio.ensure_future(budget.acquire(0, 1))
    await budget.acquire(10, 0)  # files still fit
    await asyncio.sleep(0)
    assert not blocked.done()
    budget.release(0, 1)
    await blocked


async def test_budget_is_first_come_first_served() -> None:
    """A small batch does not overtake a large one waiting ahead of it."""
    budget = Budget(Limits(files=10))
    await budget.acquire(6, 0)
    order: list[str] = []

    async def take(name: str, files: int) -> None:
        await budget.acquire(files, 0)
        order.append(name)

    large = asyncio.ensure_future(take("large", 10))
    await asyncio.sleep(0)
    small = asyncio.ensure_future(take("small", 2))
    await asyncio.sleep(0)
    assert order == []
    budget.release(6, 0)
    await asyncio.gather(large, asyncio.sleep(0))
    assert order == ["large"]
    budget.release(10, 0)
    await small
    assert order == ["large", "small"]


async def test_budget_cancelled_waiter_leaves_no_trace() -> None:
    """Cancelling a waiter neither leaks capacity nor blocks those behind it."""
    budget = Budget(Limits(files=10))
    await budget.acquire(10, 0)
    first = asyncio.ensure_future(budget.acquire(10, 0))
    second = asyncio.ensure_future(budget.acquire(3, 0))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    budget.release(10, 0)
    await second
    assert budget.files == 3


async def test_budget_occupy_may_exceed_and_fail_wakes_waiters() -> None:
    """Other writers may hold more than the limit; fail() ends every wait with the error."""
    budget = Budget(Limits(files=10))
    budget.occupy(15, 0)
    waiter = asyncio.ensure_future(budget.acquire(1, 0))
    await asyncio.sleep(0)
    budget.fail(RuntimeError("polling stopped"))
    with pytest.raises(RuntimeError, match="polling stopped"):
        await waiter
