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
from cfinv._packing import RequestCap, Work, next_batch
from cfinv.policies import CompletionWindow, to_seconds

if TYPE_CHECKING:
    from collections.abc import Callable

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
    """With durations alike, the window shrinks with each invalidation: two thirds in, then end."""
    learned = CompletionWindow()
    assert learned.plan() == []
    learned.observe(4.0, 5.0)
    assert learned.plan() == pytest.approx([4 + 2 / 3, 5.0])
    learned.observe(4 + 2 / 3, 5.0)  # the first poll saw it still running
    assert learned.plan() == pytest.approx([4 + 2 / 3 + 2 / 9, 5.0])
    learned.observe(4.5, 4.75)  # the first poll saw it done
    assert learned.plan() == pytest.approx([4 + 2 / 3 + (4.75 - 4 - 2 / 3) * 2 / 3, 4.75])


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


def exactly(files: int, wildcards: int) -> Callable[[int, int], tuple[int, int] | None]:
    """A pick that takes this fixed share, once it is free."""

    def pick(free_files: int, free_wildcards: int) -> tuple[int, int] | None:
        fits = files <= free_files and wildcards <= free_wildcards
        return (files, wildcards) if fits else None

    return pick


def up_to(files: int) -> Callable[[int, int], tuple[int, int] | None]:
    """A pick that takes what is free, up to ``files``, as soon as anything is."""

    def pick(free_files: int, _free_wildcards: int) -> tuple[int, int] | None:
        return (min(files, free_files), 0) if free_files else None

    return pick


async def test_budget_waits_until_capacity_is_released() -> None:
    """A share that does not fit waits; a release lets it in at once."""
    budget = Budget(Limits(files=10, wildcards=2))
    await budget.reserve(exactly(8, 1))
    waiter = asyncio.ensure_future(budget.reserve(exactly(5, 0)))
    await asyncio.sleep(0)
    assert not waiter.done()
    budget.release(8, 1)
    assert await waiter == (5, 0)
    assert (budget.files, budget.wildcards) == (5, 0)


async def test_budget_hands_over_what_the_pick_takes_of_what_is_free() -> None:
    """A flexible pick gets part of the budget now, not all of it later."""
    budget = Budget(Limits(files=10))
    budget.occupy(7, 0)  # another writer
    assert await budget.reserve(up_to(10)) == (3, 0)
    assert budget.free == (0, 15)


async def test_budget_counts_wildcards_independently() -> None:
    """Wildcards have their own limit, whatever the files do."""
    budget = Budget(Limits(files=10, wildcards=2))
    await budget.reserve(exactly(0, 2))
    blocked = asyncio.ensure_future(budget.reserve(exactly(0, 1)))
    await asyncio.sleep(0)
    assert not blocked.done()
    budget.release(0, 1)
    await blocked


async def test_budget_is_first_come_first_served() -> None:
    """A small share does not overtake a large one waiting ahead of it."""
    budget = Budget(Limits(files=10))
    await budget.reserve(exactly(6, 0))
    order: list[str] = []

    async def take(name: str, files: int) -> None:
        await budget.reserve(exactly(files, 0))
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
    await budget.reserve(exactly(10, 0))
    first = asyncio.ensure_future(budget.reserve(exactly(10, 0)))
    second = asyncio.ensure_future(budget.reserve(exactly(3, 0)))
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
    assert budget.free == (0, 15)
    waiter = asyncio.ensure_future(budget.reserve(exactly(1, 0)))
    await asyncio.sleep(0)
    budget.fail(RuntimeError("polling stopped"))
    with pytest.raises(RuntimeError, match="polling stopped"):
        await waiter


async def test_budget_refuses_a_pick_that_takes_more_than_is_free() -> None:
    """A pick asking for more than is free is a bug, said at once."""
    budget = Budget(Limits(files=10))
    with pytest.raises(ValueError, match="more than is free"):
        await budget.reserve(lambda _f, _w: (11, 0))
    assert budget.free == (10, 15)


# --- packing ------------------------------------------------------------------------

LIMITS = Limits()


@given(
    st.integers(0, 10_000),
    st.integers(0, 100),
    st.integers(0, 3000),
    st.integers(0, 15),
    st.one_of(st.none(), st.integers(1, 4000)),
)
def test_next_batch_never_exceeds_what_is_free_left_or_allowed(
    files_left: int, wildcards_left: int, free_files: int, free_wildcards: int, cap: int | None
) -> None:
    """A batch fits what is free, what is left and one request; tiny ones wait."""
    size = next_batch(
        files_left, wildcards_left, free_files, free_wildcards, limits=LIMITS, per_request=cap
    )
    if size is None:
        return
    files, wildcards = size
    assert 0 <= files <= min(files_left, free_files)
    assert 0 <= wildcards <= min(wildcards_left, free_wildcards)
    assert files + wildcards >= 1
    if cap is not None:
        assert files + wildcards <= cap
    everything = (files, wildcards) == (files_left, wildcards_left)
    full = cap is not None and files + wildcards == cap
    assert everything or full or files >= 300 or wildcards >= 2


@given(st.integers(0, 10_000), st.integers(0, 100), st.one_of(st.none(), st.integers(1, 4000)))
def test_next_batch_on_a_free_budget_always_sends(
    files_left: int, wildcards_left: int, cap: int | None
) -> None:
    """With the whole budget free, there is always a batch while paths are left."""
    size = next_batch(files_left, wildcards_left, 3000, 15, limits=LIMITS, per_request=cap)
    assert (size is None) == (files_left + wildcards_left == 0)


def test_next_batch_sends_what_fits_now_and_keeps_wildcards_under_a_cap() -> None:
    """Another writer holds 1,200 files: 1,800 go now; a cap trims files, not wildcards."""
    assert next_batch(6857, 4, 1800, 15, limits=LIMITS, per_request=None) == (1800, 4)
    assert next_batch(7000, 20, 3000, 15, limits=LIMITS, per_request=3000) == (2985, 15)
    assert next_batch(7000, 0, 120, 15, limits=LIMITS, per_request=None) is None  # too small
    assert next_batch(100, 0, 120, 15, limits=LIMITS, per_request=None) == (100, 0)  # the rest


@given(st.integers(2, 5000), st.randoms(use_true_random=False))
def test_request_cap_converges_below_the_true_cap(true_cap: int, rng: random.Random) -> None:
    """Learning from 413s ends at a size the endpoint takes, within 5 % of its cap."""
    cap = RequestCap(LIMITS)
    size = rng.randint(true_cap + 1, true_cap + 3000)
    refusals = 0
    for _ in range(100):
        if size > true_cap:
            cap.was_refused(size)
            refusals += 1
        else:
            cap.was_accepted(size)
        learned = cap.size
        assert learned is not None
        if learned == size and size <= true_cap:
            break
        size = learned
    assert size <= true_cap
    assert size >= true_cap * 0.95 - 1
    assert refusals <= 16


def test_request_cap_tries_the_file_limit_first() -> None:
    """After a refusal of 3,015 paths, 3,000 is tried (a cap 'in total' is the likely one)."""
    assert RequestCap(LIMITS).size is None  # nothing known: no cap beyond the limits
    cap = RequestCap(LIMITS)
    cap.was_refused(3015)
    assert cap.size == 3000
    cap.was_accepted(3000)
    assert cap.size == 3000
    assert RequestCap(Limits(paths_per_request=1000)).size == 1000


def test_work_gives_back_in_order() -> None:
    """Paths put back come out first again, in their order; nothing lost or doubled."""
    work = Work(["/a", "/b", "/c", "/w/*", "/x/*"])
    batch = work.take(2, 1)
    assert batch.items == ("/a", "/b", "/w/*")
    work.give_back(batch)
    assert work.take(3, 2).items == ("/a", "/b", "/c", "/w/*", "/x/*")
    assert not work
