"""
The emulator's in-memory CloudFront: distributions, tenants, invalidations and rules.

No HTTP here: the server turns requests into calls on `Backend` and its
`ApiError` into CloudFront's error responses.  Every method takes the
lock, because tests read the state from another thread while the server runs.
"""

from __future__ import annotations

import datetime as dt
import enum
import string
import threading
from typing import TYPE_CHECKING

import attrs

from cfinv.models import InvalidationBatch, InvalidationStatus, Limits, Paths
from cfinv.paths import is_wildcard, path_problem

if TYPE_CHECKING:
    from collections.abc import Callable

    from cfinv.runtime import Runtime
    from cfinv.testing._wire import BatchRequest

__all__ = [
    "ApiError",
    "Backend",
    "CallRecord",
    "EmulatedInvalidation",
    "FaultKind",
    "RateLimit",
    "TargetKind",
]

_ID_ALPHABET = string.ascii_uppercase + string.digits
_PAGE_MAX = 100


class TargetKind(enum.Enum):
    """What an invalidation belongs to."""

    DISTRIBUTION = "distribution"
    TENANT = "distribution-tenant"


class FaultKind(enum.Enum):
    """
    A failure the emulator can inject into a call.

    Attributes:
        THROTTLE: Answer 400 ``Throttling`` "Rate exceeded" without processing.
        INTERNAL_ERROR: Answer 500 ``InternalError`` without processing.
        SERVICE_UNAVAILABLE: Answer 503 ``ServiceUnavailable`` without processing.
        RESET_BEFORE: Reset the connection without processing.
        RESET_AFTER: Process the call (a create creates the invalidation),
            then reset the connection: the reply is lost.
        DELAY: Process the call, then wait ``delay`` seconds before replying.
    """

    THROTTLE = "throttle"
    INTERNAL_ERROR = "internal-error"
    SERVICE_UNAVAILABLE = "service-unavailable"
    RESET_BEFORE = "reset-before"
    RESET_AFTER = "reset-after"
    DELAY = "delay"


@attrs.frozen
class RateLimit:
    """
    A token bucket: ``rate`` calls per second on average, bursts of ``burst``.

    Attributes:
        rate: Tokens added per second.
        burst: The bucket's size: calls allowed at once after a quiet period.
    """

    rate: float = attrs.field(validator=attrs.validators.gt(0))
    burst: int = attrs.field(validator=attrs.validators.ge(1))


@attrs.frozen
class EmulatedInvalidation:
    """
    One invalidation the emulator holds.

    Attributes:
        id: Its CloudFront-style Id.
        target_id: The distribution (or distribution tenant) it belongs to.
        batch: The paths and caller reference it was created with.
        create_time: When it was created.
        complete_time: When it turns ``Completed``.
    """

    id: str
    target_id: str
    batch: InvalidationBatch
    create_time: dt.datetime
    complete_time: dt.datetime

    def status_at(self, now: dt.datetime) -> InvalidationStatus:
        """
        Its status at a moment.

        Args:
            now: The moment (timezone-aware).
        """
        if now < self.complete_time:
            return InvalidationStatus.IN_PROGRESS
        return InvalidationStatus.COMPLETED


@attrs.frozen
class CallRecord:
    """
    One API call the emulator received.

    Attributes:
        operation: The API operation, e.g. ``CreateInvalidation`` (or
            ``Unknown`` for a request no operation matches).
        target_id: The distribution or tenant id in the URL, if any.
        status: The HTTP status answered; ``None`` when the connection was
            reset before an answer.
        error_code: The error code answered, if any.
        fault: The injected fault, if any.
        time: When the call arrived.
        invalidation_id: The invalidation created or read, if any.
        created: Whether the call created a new invalidation.
        request_id: The ``x-amzn-RequestId`` answered.
        answered: Whether the call is over (answered, or its connection
            reset); ``False`` while it is in flight.
    """

    operation: str
    target_id: str | None
    status: int | None
    error_code: str | None
    fault: FaultKind | None
    time: dt.datetime
    invalidation_id: str | None = None
    created: bool = False
    request_id: str = ""
    answered: bool = False


class ApiError(Exception):
    """An error answer: HTTP status, CloudFront error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class _TokenBucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self._limit = limit
        self._tokens = float(limit.burst)
        self._updated = now

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._limit.burst), self._tokens + elapsed * self._limit.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@attrs.define
class _Target:
    kind: TargetKind
    id: str
    invalidations: dict[str, EmulatedInvalidation] = attrs.Factory(dict)
    order: list[str] = attrs.Factory(list)  # creation order, oldest first
    by_reference: dict[str, str] = attrs.Factory(dict)


_NOT_FOUND = {
    TargetKind.DISTRIBUTION: ("NoSuchDistribution", "The specified distribution does not exist."),
    TargetKind.TENANT: ("EntityNotFound", "The specified distribution tenant does not exist."),
}
_INVALID_PATHS = "Your request contains one or more invalid invalidation paths."
_REFERENCE_USED = (
    "Your request contains a caller reference that was used for a previous invalidation "
    "batch for the same distribution."
)
_TOO_MANY = (
    "Processing your request will cause you to exceed the maximum number of in-progress "
    "invalidations."
)


class Backend:
    """
    CloudFront's invalidation rules over in-memory state.

    Args:
        limits: The in-progress and per-batch limits.
        latency: Seconds from creation to ``Completed``, per invalidation.
        conflict_code: ``"observed"`` answers a reused caller reference with
            400 ``InvalidArgument``; ``"documented"`` with 409
            ``InvalidationBatchAlreadyExists``.
        rate_limits: Operation name -> token bucket; operations not listed
            are not limited.
        replay_identical: Whether a repeat with the same caller reference and
            paths returns the earlier invalidation (documented) or gets the
            conflict answer too (as some users report).
        limits_first: Check the in-progress limits before the caller
            reference, so that a repeat of a batch that is in progress is
            refused as over the limits.
        runtime: The wall clock (creation and completion times), the
            monotonic clock (rate limits) and the random source (ids).
    """

    def __init__(
        self,
        *,
        limits: Limits,
        latency: Callable[[], float],
        conflict_code: str,
        rate_limits: dict[str, RateLimit],
        replay_identical: bool = True,
        limits_first: bool = False,
        runtime: Runtime,
    ) -> None:
        self.limits = limits
        self._latency = latency
        self._conflict_code = conflict_code
        self._replay_identical = replay_identical
        self._limits_first = limits_first
        self._clock = runtime.now
        self._monotonic = runtime.monotonic
        self._rng = runtime.random
        self._lock = threading.RLock()
        self._targets: dict[tuple[TargetKind, str], _Target] = {}
        self._buckets = {
            op: _TokenBucket(limit, self._monotonic()) for op, limit in rate_limits.items()
        }
        self._calls: list[CallRecord] = []
        self._calls_dropped = 0  # records forgotten by `reset`, so places stay valid
        self._rate_limits = dict(rate_limits)

    # --- identity ---------------------------------------------------------------

    def _new_id(self, first: str, length: int) -> str:
        return first + "".join(self._rng.choice(_ID_ALPHABET) for _ in range(length - 1))

    def add_target(self, kind: TargetKind, target_id: str | None) -> str:
        """Create a distribution or tenant (with a generated id unless given)."""
        with self._lock:
            if target_id is None:
                if kind is TargetKind.DISTRIBUTION:
                    target_id = self._new_id("E", 14)
                else:
                    target_id = "dt_" + "".join(
                        self._rng.choice(string.ascii_letters + string.digits) for _ in range(27)
                    )
            key = (kind, target_id)
            if key not in self._targets:
                self._targets[key] = _Target(kind, target_id)
            return target_id

    def _target(self, kind: TargetKind, target_id: str) -> _Target:
        target = self._targets.get((kind, target_id))
        if target is None:
            code, message = _NOT_FOUND[kind]
            raise ApiError(404, code, message)
        return target

    def target_ids(self, kind: TargetKind) -> list[str]:
        """Every id of one kind, in creation order."""
        with self._lock:
            return [t.id for (k, _), t in self._targets.items() if k is kind]

    # --- rate limiting and the call log -----------------------------------------------

    def take_token(self, operation: str) -> bool:
        """Whether ``operation`` may proceed under its rate limit."""
        with self._lock:
            bucket = self._buckets.get(operation)
            return bucket is None or bucket.take(self._monotonic())

    def record(self, call: CallRecord) -> int:
        """Append a call to the log as it arrives; its place, for `update`."""
        with self._lock:
            self._calls.append(call)
            return len(self._calls) - 1 + self._calls_dropped

    def update(self, place: int, call: CallRecord) -> None:
        """Replace the record at ``place`` (as it is answered); gone after a reset."""
        with self._lock:
            index = place - self._calls_dropped
            if 0 <= index < len(self._calls):
                self._calls[index] = call

    def calls(self) -> tuple[CallRecord, ...]:
        """Every call so far, oldest first."""
        with self._lock:
            return tuple(self._calls)

    # --- the operations ------------------------------------------------------------

    def in_progress(self, target: _Target, now: dt.datetime) -> tuple[int, int]:
        """(files, wildcards) in progress on ``target`` at ``now``."""
        files = wildcards = 0
        for inv in target.invalidations.values():
            if now < inv.complete_time:
                w = inv.batch.paths.wildcards
                wildcards += w
                files += inv.batch.paths.quantity - w
        return files, wildcards

    def create(
        self,
        kind: TargetKind,
        target_id: str,
        request: BatchRequest,
        *,
        latency: float | None = None,
    ) -> tuple[EmulatedInvalidation, bool]:
        """
        Create an invalidation, or return the earlier one for a repeated request.

        ``latency`` overrides the configured completion latency for this one.

        Returns:
            The invalidation and whether it was created by this call.

        Raises:
            ApiError: Any rule of CloudFront's is broken.
        """
        with self._lock:
            target = self._target(kind, target_id)
            items = request.items
            if request.quantity != len(items):
                raise ApiError(
                    400,
                    "InconsistentQuantities",
                    f"The specified quantity of Paths ({request.quantity}) does not match "
                    f"the actual quantity supplied ({len(items)}).",
                )
            if not items or any(path_problem(p, limits=self.limits) for p in items):
                raise ApiError(400, "InvalidArgument", _INVALID_PATHS)
            wildcards = sum(1 for p in items if is_wildcard(p))
            files = len(items) - wildcards
            per_request = self.limits.paths_per_request
            if (
                files > self.limits.files
                or wildcards > self.limits.wildcards
                or (per_request is not None and len(items) > per_request)
            ):
                allowed = f"at most {self.limits.files} and {self.limits.wildcards}"
                if per_request is not None:
                    allowed += f", {per_request} in all,"
                raise ApiError(
                    413,
                    "BatchTooLarge",
                    f"The batch holds {files} file paths and {wildcards} wildcard paths; "
                    f"{allowed} are allowed.",
                )
            now = self._clock()
            if self._limits_first:
                self._check_in_progress(target, now, files, wildcards)
            earlier_id = target.by_reference.get(request.caller_reference)
            if earlier_id is not None:
                earlier = target.invalidations[earlier_id]
                if self._replay_identical and sorted(earlier.batch.paths.items) == sorted(items):
                    return earlier, False
                if self._conflict_code == "documented":
                    raise ApiError(
                        409,
                        "InvalidationBatchAlreadyExists",
                        "The CallerReference was already used for a different invalidation batch.",
                    )
                raise ApiError(400, "InvalidArgument", _REFERENCE_USED)
            if not self._limits_first:
                self._check_in_progress(target, now, files, wildcards)
            invalidation = EmulatedInvalidation(
                id=self._new_id("I", 14),
                target_id=target_id,
                batch=InvalidationBatch(Paths(items), request.caller_reference),
                create_time=now,
                complete_time=now
                + dt.timedelta(seconds=max(0.0, self._latency() if latency is None else latency)),
            )
            target.invalidations[invalidation.id] = invalidation
            target.order.append(invalidation.id)
            target.by_reference[request.caller_reference] = invalidation.id
            return invalidation, True

    def _check_in_progress(
        self, target: _Target, now: dt.datetime, files: int, wildcards: int
    ) -> None:
        busy_files, busy_wildcards = self.in_progress(target, now)
        if (
            busy_files + files > self.limits.files
            or busy_wildcards + wildcards > self.limits.wildcards
        ):
            raise ApiError(400, "TooManyInvalidationsInProgress", _TOO_MANY)

    def get(self, kind: TargetKind, target_id: str, invalidation_id: str) -> EmulatedInvalidation:
        """Return one invalidation, or raise the matching not-found error."""
        with self._lock:
            target = self._target(kind, target_id)
            invalidation = target.invalidations.get(invalidation_id)
            if invalidation is None:
                raise ApiError(
                    404, "NoSuchInvalidation", "The specified invalidation does not exist."
                )
            return invalidation

    def page(
        self, kind: TargetKind, target_id: str, marker: str, max_items: str
    ) -> tuple[list[EmulatedInvalidation], str | None, int]:
        """
        One page of a target's invalidations, newest first.

        Returns:
            The page, the next marker (the last Id, when there is more) and
            the MaxItems in effect.
        """
        with self._lock:
            target = self._target(kind, target_id)
            try:
                limit = int(max_items) if max_items else _PAGE_MAX
            except ValueError:
                raise ApiError(400, "InvalidArgument", "MaxItems must be an integer.") from None
            if limit < 0:
                raise ApiError(400, "InvalidArgument", "MaxItems must not be negative.")
            limit = min(limit, _PAGE_MAX)
            newest_first = target.order[::-1]
            start = 0
            if marker:
                if marker not in target.invalidations:
                    raise ApiError(400, "InvalidArgument", f"Invalid marker {marker!r}.")
                start = newest_first.index(marker) + 1
            chosen = newest_first[start : start + limit]
            more = start + limit < len(newest_first)
            next_marker = chosen[-1] if more and chosen else None
            return [target.invalidations[i] for i in chosen], next_marker, limit

    # --- test helpers ------------------------------------------------------------

    def invalidations(self, kind: TargetKind, target_id: str) -> tuple[EmulatedInvalidation, ...]:
        """Every invalidation of a target, oldest first."""
        with self._lock:
            target = self._target(kind, target_id)
            return tuple(target.invalidations[i] for i in target.order)

    def reset(self) -> None:
        """Forget every invalidation and call, and refill the rate buckets; keep the targets."""
        with self._lock:
            for key, target in self._targets.items():
                self._targets[key] = _Target(target.kind, target.id)
            self._calls_dropped += len(self._calls)
            self._calls.clear()
            now = self._monotonic()
            self._buckets = {
                op: _TokenBucket(limit, now) for op, limit in self._rate_limits.items()
            }

    def complete(self, invalidation_id: str | None = None) -> None:
        """
        Complete one invalidation now (or every one, with ``None``).

        Raises:
            ApiError: No invalidation has the id given.
        """
        with self._lock:
            now = self._clock()
            found = invalidation_id is None
            for target in self._targets.values():
                for inv_id, inv in list(target.invalidations.items()):
                    found = found or inv_id == invalidation_id
                    if invalidation_id in (None, inv_id) and inv.complete_time > now:
                        target.invalidations[inv_id] = attrs.evolve(inv, complete_time=now)
            if not found:
                raise ApiError(
                    404, "NoSuchInvalidation", f"No invalidation has the id {invalidation_id!r}."
                )
