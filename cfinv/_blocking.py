"""
The blocking entry points, for scripts and notebooks: the async API on an event loop of its own.

    report = cfinv.invalidate_blocking("EDFDVBD6EXAMPLE", ["/index.html", "/img/*"])

Each call runs the async call on a new event loop in a worker thread and
waits for it, so it works the same whether or not the calling thread already
runs an event loop (a Jupyter notebook does).  When the call returns or
raises, the loop is closed, the client closed and the thread gone.

Ctrl-C (``KeyboardInterrupt``) while it waits stops the run as
`Invalidator.aclose` does (what was created goes on at CloudFront; a create
in flight is looked up by its CallerReference), closes the client, and
re-raises ``KeyboardInterrupt``; its ``__cause__`` is the
`InvalidatorClosed` (or `InvalidateManyError`) whose ``report`` lists what
was created.  A second Ctrl-C skips that look-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Coroutine, Iterable, Mapping

    from cfinv.report import InvalidationReport
    from cfinv.trees import TreeSource

__all__ = ["invalidate_blocking", "invalidate_many_blocking"]

T = TypeVar("T")

log = logging.getLogger("cfinv")

#: How long the waiting thread sleeps between checks for Ctrl-C, at most (seconds).
#: Where a signal interrupts a wait (POSIX), it comes at once; elsewhere within this.
_CHECK_INTERVAL = 0.25


class _Worker(Generic[T]):
    """One coroutine on a new event loop in its own thread; stoppable from the caller's thread."""

    def __init__(self, make: Callable[[asyncio.Event], Coroutine[Any, Any, T]]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[T] | None = None
        self._stops = 0  # how often a stop was asked for (Ctrl-C presses)
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="cfinv-blocking", daemon=True)

    def run(self) -> T:
        """Start, wait (Ctrl-C stops the run, then re-raises), and return or raise its outcome."""
        self._thread.start()
        interrupt: KeyboardInterrupt | None = None
        while True:
            try:
                while not self._done.wait(_CHECK_INTERVAL):
                    pass
                break
            except KeyboardInterrupt as pressed:
                interrupt = interrupt or pressed
                self._request_stop()
        self._thread.join()
        error, self._error = self._error, None
        if interrupt is not None:
            cause = error if isinstance(error, Exception) else None
            if cause is not None:
                report = getattr(cause, "report", None)
                created = [] if report is None else [i.id for i in report.invalidations]
                log.warning(
                    "interrupted; invalidation(s) created go on at CloudFront: %s",
                    ", ".join(created) or "none",
                )
            raise interrupt from cause
        if error is not None:
            raise error
        return self._result  # type: ignore[return-value]  # set when no error

    def _request_stop(self) -> None:
        with self._lock:
            self._stops += 1
            loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop has just closed
                    loop.call_soon_threadsafe(self._stop_now)

    def _stop_now(self) -> None:
        """On the worker's loop: the first stop is graceful, any later one cancels."""
        if self._stop is not None:
            self._stop.set()
        if self._stops > 1 and self._task is not None:
            self._task.cancel()

    def _main(self) -> None:
        try:
            self._result = asyncio.run(self._body())
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            self._error = exc
        finally:
            self._done.set()

    async def _body(self) -> T:
        stop = asyncio.Event()
        task = asyncio.ensure_future(self._make(stop))
        with self._lock:
            self._loop, self._stop, self._task = asyncio.get_running_loop(), stop, task
            if self._stops:
                self._stop_now()
        try:
            return await task
        finally:
            with self._lock:
                self._loop = None


def invalidate_blocking(
    distribution_id: str,
    paths: Iterable[str],
    *,
    wait: bool = True,
    timeout: float | dt.timedelta | None = None,
    raise_on_timeout: bool = True,
    tree: TreeSource | None = None,
    max_paths: int | None = None,
    max_wildcards: int | None = None,
    index_document: str | None = None,
    **options: Any,  # noqa: ANN401 - Invalidator's keyword options, passed through
) -> InvalidationReport:
    """
    Invalidate ``paths`` and wait, without async: for scripts and notebooks.

    ``report = cfinv.invalidate_blocking("EDFDVBD6EXAMPLE", ["/index.html", "/img/*"])``

    The call runs on a new event loop in a worker thread, so it works from
    plain code and from a thread that already runs an event loop (a
    notebook); that loop is blocked until the call returns.  When it returns
    or raises, no thread, loop or client is left behind.

    Args:
        distribution_id: The distribution (or, with ``tenant=True``, the tenant).
        paths: The changed paths.
        wait: As for `Invalidator.invalidate`.
        timeout: As for `Invalidator.invalidate`.
        raise_on_timeout: As for `Invalidator.invalidate`.
        tree: As for `Invalidator.invalidate`.
        max_paths: As for `Invalidator.invalidate`.
        max_wildcards: As for `Invalidator.invalidate`.
        index_document: As for `Invalidator.invalidate`.
        **options: Any keyword option of `Invalidator` (``endpoint_url``,
            ``session``, ``limits``, ``deploy_id``, ``discovery``,
            ``on_event``, ...), except ``client``: an aiobotocore client
            belongs to the event loop that made it.  ``on_event`` is called
            on the worker thread.

    Returns:
        The report, as `Invalidator.invalidate` returns it.

    Raises:
        KeyboardInterrupt: Ctrl-C while waiting: the run was stopped as by
            `Invalidator.aclose` (nothing more is sent; what was created goes
            on at CloudFront) and the client closed.  Its ``__cause__`` is the
            `InvalidatorClosed` whose ``report`` lists what was created.
        CfinvError: As `Invalidator.invalidate` raises (`InvalidPathError`,
            `InvalidationTimeout`, `AccessDenied`, ...).
        ValueError: ``client=`` was given, or an option is invalid.
    """
    _no_client(options)
    from cfinv.invalidator import Invalidator

    invalidator = Invalidator(distribution_id, **options)  # options checked here, at once

    async def run(stop: asyncio.Event) -> InvalidationReport:
        call = asyncio.ensure_future(
            invalidator.invalidate(
                paths,
                wait=wait,
                timeout=timeout,
                raise_on_timeout=raise_on_timeout,
                tree=tree,
                max_paths=max_paths,
                max_wildcards=max_wildcards,
                index_document=index_document,
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({call, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not call.done():
                await invalidator.aclose()  # the call fails with InvalidatorClosed, report attached
            return await call
        finally:
            for task in (stopping, call):
                task.cancel()
            await asyncio.gather(stopping, call, return_exceptions=True)
            await invalidator.aclose()

    return _Worker(run).run()


def invalidate_many_blocking(
    targets: Mapping[str, Iterable[str]],
    **options: Any,  # noqa: ANN401 - invalidate_many's keyword options, passed through
) -> dict[str, InvalidationReport]:
    """
    Invalidate several distributions at once, without async: `invalidate_many` for scripts.

    ``reports = cfinv.invalidate_many_blocking({"E1AAAAAAAAAAAA": ["/*"]}, timeout=900)``

    Runs as `invalidate_blocking` does (a new event loop in a worker thread).

    Args:
        targets: Distribution id -> its changed paths.
        **options: Any keyword option of `invalidate_many` (``tenants``,
            ``wait``, ``timeout``, ``endpoint_url``, ``session``, ...), except
            ``client`` and ``stop`` (Ctrl-C stops it).

    Returns:
        Distribution (or tenant) id -> its report.

    Raises:
        KeyboardInterrupt: Ctrl-C while waiting: every call was stopped and
            the client closed; its ``__cause__`` is the `InvalidateManyError`
            whose ``errors`` (`InvalidatorClosed`) carry each partial report.
        InvalidateManyError: Some distributions failed (the others' reports are in it).
    """
    _no_client(options)
    if "stop" in options:
        msg = "invalidate_many_blocking() takes no stop=: Ctrl-C (KeyboardInterrupt) stops it"
        raise ValueError(msg)
    from cfinv.invalidator import invalidate_many

    async def run(stop: asyncio.Event) -> dict[str, InvalidationReport]:
        return await invalidate_many(targets, stop=stop, **options)

    return _Worker(run).run()


def _no_client(options: Mapping[str, Any]) -> None:
    if options.get("client") is not None:
        msg = (
            "a blocking call runs on an event loop of its own, and an aiobotocore client "
            "belongs to the loop that opened it: pass session= (or endpoint_url=, config=, "
            "...) instead of client="
        )
        raise ValueError(msg)
