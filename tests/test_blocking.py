"""
Specs for the blocking entry points, from plain code, from a running loop, and interrupted.

The call runs its own event loop in a worker thread, which a virtual clock
cannot drive: these tests run on real time against a threaded emulator whose
invalidations complete at once (or, for the interrupt, never in the test's time).
"""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

import pytest

import cfinv
from cfinv import Event, InvalidateManyError, InvalidatorClosed, PollPolicy, Submitted
from cfinv.testing import CloudFrontEmulator
from tests.conftest import PLAIN_HTTP, SESSION

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

FAST_POLL = PollPolicy(first=0.01, min_interval=0.01, max_interval=0.05)


def options(emu: CloudFrontEmulator, **more: Any) -> dict[str, Any]:
    return {
        "endpoint_url": emu.endpoint_url,
        "session": SESSION,
        "verify": PLAIN_HTTP,
        "poll": FAST_POLL,
        **more,
    }


@pytest.fixture
def emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator: invalidations complete as soon as they are created."""
    with CloudFrontEmulator(latency=0, rate_limits=None) as emulator:
        yield emulator


def test_from_plain_code_returns_the_report_and_leaves_no_thread(emu: CloudFrontEmulator) -> None:
    """invalidate_blocking waits like the async call and leaves no thread behind."""
    dist = emu.create_distribution()
    before = threading.active_count()
    report = cfinv.invalidate_blocking(dist, ["/index.html", "/img/*"], **options(emu))
    assert threading.active_count() == before
    assert report.completed
    assert report.distribution_id == dist
    assert [b.paths.items for b in report.batches] == [("/index.html", "/img/*")]


async def test_from_a_thread_that_runs_an_event_loop(emu: CloudFrontEmulator) -> None:
    """Called inside a running loop (a notebook cell), it still works: a loop of its own."""
    dist = emu.create_distribution()
    before = threading.active_count()
    report = cfinv.invalidate_blocking(dist, ["/a"], wait=False, **options(emu))
    assert threading.active_count() == before
    assert [b.invalidation is not None for b in report.batches] == [True]


def test_errors_are_raised_as_the_async_call_raises_them(emu: CloudFrontEmulator) -> None:
    """An invalid path: InvalidPathError, nothing sent, no thread left."""
    dist = emu.create_distribution()
    before = threading.active_count()
    with pytest.raises(cfinv.InvalidPathError):
        cfinv.invalidate_blocking(dist, ["/" + "a" * 5000], **options(emu))
    assert threading.active_count() == before
    assert emu.calls == ()


def test_a_client_is_refused() -> None:
    """client= belongs to another loop: a ValueError that says what to pass instead."""
    with pytest.raises(ValueError, match="session="):
        cfinv.invalidate_blocking("EDFDVBD6EXAMPLE", ["/a"], client=object())


def test_many_returns_every_report(emu: CloudFrontEmulator) -> None:
    """invalidate_many_blocking: one report per distribution."""
    first, second = emu.create_distribution(), emu.create_distribution()
    before = threading.active_count()
    reports = cfinv.invalidate_many_blocking({first: ["/a"], second: ["/b"]}, **options(emu))
    assert threading.active_count() == before
    assert sorted(reports) == sorted([first, second])
    assert all(r.completed for r in reports.values())


@pytest.fixture
def slow_emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator whose invalidations stay InProgress for an hour."""
    with CloudFrontEmulator(latency=3600, rate_limits=None) as emulator:
        yield emulator


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in the main thread, whatever the test runner installed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def press_ctrl_c_on(kind: type[Event]) -> Callable[[Event], None]:
    """An on_event callback that sends SIGINT to the main thread at the first ``kind`` event."""
    pressed = threading.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, kind) and not pressed.is_set():
            pressed.set()
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    return on_event


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_stops_the_run_closes_and_reraises_with_the_partial_report(
    slow_emu: CloudFrontEmulator,
) -> None:
    """
    Ctrl-C while waiting: KeyboardInterrupt at once, caused by InvalidatorClosed with the report.

    The invalidation created goes on at CloudFront; the next batch is never sent.
    """
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    dist = slow_emu.create_distribution()
    before = threading.active_count()
    paths = [f"/w{i}/*" for i in range(16)]  # two batches: the second waits for capacity
    with pytest.raises(KeyboardInterrupt) as caught:
        cfinv.invalidate_blocking(
            dist, paths, **options(slow_emu, on_event=press_ctrl_c_on(Submitted))
        )
    assert threading.active_count() == before
    cause = caught.value.__cause__
    assert isinstance(cause, InvalidatorClosed)
    assert cause.report is not None
    assert [i.id for i in cause.report.invalidations] == [
        i.id for i in slow_emu.invalidations(dist)
    ]
    assert len(slow_emu.invalidations(dist)) == 1


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_stops_many_with_every_partial_report(slow_emu: CloudFrontEmulator) -> None:
    """invalidate_many_blocking: KeyboardInterrupt caused by InvalidateManyError of closed calls."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    dist = slow_emu.create_distribution()
    before = threading.active_count()
    with pytest.raises(KeyboardInterrupt) as caught:
        cfinv.invalidate_many_blocking(
            {dist: ["/a"]}, **options(slow_emu, on_event=press_ctrl_c_on(Submitted))
        )
    assert threading.active_count() == before
    cause = caught.value.__cause__
    assert isinstance(cause, InvalidateManyError)
    assert isinstance(cause.errors[dist], InvalidatorClosed)
