"""
The retry loop: one `Retrier` per Invalidator runs every call under its `RetryPolicy`.

tenacity is used here and nowhere else.  The loop is built from the policy,
the runtime (its sleep, monotonic clock and random source for the jitter) and
the emitter once; each call only says what it is.  Only errors whose
``retryable`` flag is set are retried (`Throttling`, 5xx, transport errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import tenacity as _t

from cfinv.errors import CfinvError
from cfinv.events import Retrying

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from cfinv._emitter import Emitter
    from cfinv._gateway import Tally
    from cfinv.policies import RetryPolicy
    from cfinv.runtime import Runtime

__all__ = ["Retrier"]

T = TypeVar("T")


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, CfinvError) and exc.retryable


class Retrier:
    """
    Runs calls under a retry policy: ``await retrier(operation, call)``.

    Args:
        policy: Attempts, backoff and deadline.
        runtime: The sleep between attempts, the clock of the deadline, the jitter.
        emitter: Receives a `Retrying` event before each pause.
        target_id: The distribution (or tenant) the events name.
    """

    def __init__(
        self, policy: RetryPolicy, runtime: Runtime, emitter: Emitter, target_id: str
    ) -> None:
        self.policy = policy
        self._runtime = runtime
        self._emitter = emitter
        self._target_id = target_id

    async def __call__(
        self,
        operation: str,
        call: Callable[[], Awaitable[T]],
        *,
        batch: int | None = None,
        tallies: Sequence[Tally] = (),
    ) -> T:
        """
        Run ``call`` until it succeeds, fails for good, or the policy gives up.

        Args:
            operation: The API operation, for events.
            call: Makes one attempt.
            batch: The batch concerned, for events.
            tallies: Each counts the retries.

        Raises:
            CfinvError: The last attempt's error.
        """
        policy, runtime = self.policy, self._runtime
        start = runtime.monotonic()

        def stop(state: _t.RetryCallState) -> bool:
            elapsed = runtime.monotonic() - start
            return state.attempt_number >= policy.attempts or (
                elapsed + state.upcoming_sleep > policy.deadline
            )

        async def before_sleep(state: _t.RetryCallState) -> None:
            for tally in tallies:
                tally.retries += 1
            error = state.outcome.exception() if state.outcome else None
            await self._emitter.emit(
                Retrying(
                    self._target_id,
                    operation=operation,
                    error=error if isinstance(error, Exception) else RuntimeError(str(error)),
                    attempt=state.attempt_number,
                    delay=state.upcoming_sleep,
                    batch=batch,
                )
            )

        async def attempt() -> T:
            # tenacity awaits only coroutine functions; `call` may be a lambda or a partial.
            return await call()

        retrying = _t.AsyncRetrying(
            sleep=runtime.sleep,
            stop=stop,
            wait=lambda state: policy.backoff(state.attempt_number, runtime.random),
            retry=_t.retry_if_exception(_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        return await retrying(attempt)
