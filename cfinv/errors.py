"""
Every error cfinv raises, and the one place botocore's errors become them.

The tree:

    CfinvError
    ├── InvalidPathError (ValueError)        a path failed validation; nothing was sent
    ├── InvalidationTimeout (TimeoutError)   the timeout passed first; .report says how far it got
    ├── InvalidatorClosed (RuntimeError)     the Invalidator was used after its `async with` ended
    ├── InvalidateManyError                  some distributions of invalidate_many() failed
    ├── ConfigurationError                   no credentials or region, a bad parameter, TLS failure
    ├── TransportError                       no usable answer: refused, reset, timed out [retry]
    ├── TreeSourceError (cfinv.trees)        the site's tree could not be read
    └── CloudFrontError                      CloudFront answered with an error (.code, ...)
        ├── AccessDenied                     403: the credentials may not do this
        │   ├── MissingAuthenticationToken   403: the request was not signed
        │   ├── InvalidClientTokenId         403: unknown access key
        │   └── SignatureDoesNotMatch        403: wrong secret, clock off, not us-east-1
        ├── NoSuchDistribution               404: no distribution with that id
        ├── EntityNotFound                   404: no distribution tenant with that id
        ├── NoSuchInvalidation               404: no invalidation with that id
        ├── TooManyInvalidationsInProgress   400: the in-progress budget is full for now
        ├── MissingBody                      400: the request had no body
        ├── InconsistentQuantities           400: Paths.Quantity disagrees with Paths.Items
        ├── BatchTooLarge                    413: one batch is over the limits
        ├── InvalidArgument                  400: e.g. an invalid path
        ├── CallerReferenceConflict          the caller reference was used for another batch
        ├── Throttling                       400: "Rate exceeded"  [retry]
        └── ServiceUnavailable               503, 500 and any other 5xx  [retry]

``CallerReferenceConflict`` is raised both for the documented
``InvalidationBatchAlreadyExists`` code and for the ``InvalidArgument`` answer
CloudFront is observed to give instead ("...a caller reference that was used
for a previous invalidation batch...").

`map_client_error` is the only code that looks inside a botocore
exception.  It imports nothing from botocore at module level, so ``import
cfinv`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cfinv.models import Invalidation
    from cfinv.report import InvalidationReport

__all__ = [
    "AccessDenied",
    "BatchTooLarge",
    "CallerReferenceConflict",
    "CfinvError",
    "CloudFrontError",
    "ConfigurationError",
    "EntityNotFound",
    "InconsistentQuantities",
    "InvalidArgument",
    "InvalidClientTokenId",
    "InvalidPathError",
    "InvalidateManyError",
    "InvalidationTimeout",
    "InvalidatorClosed",
    "MissingAuthenticationToken",
    "MissingBody",
    "NoSuchDistribution",
    "NoSuchInvalidation",
    "PathProblem",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "Throttling",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "map_client_error",
]


class CfinvError(Exception):
    """
    The root of every error cfinv raises.

    Attributes:
        retryable: Whether retrying the same request later may succeed.
        report: When ``invalidate()`` raised it: the partial report, with
            every invalidation the call created (``None`` otherwise).
    """

    retryable: ClassVar[bool] = False
    report: InvalidationReport | None = None


# --- client-side validation ---------------------------------------------------


@attrs.frozen
class PathProblem:
    """
    One path that failed validation, and why.

    Attributes:
        path: The path exactly as it was given.
        reason: What is wrong with it, in words a user can act on.
    """

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{shortened(self.path)}: {self.reason}"


_LONGEST_SHOWN = 100  # characters of a value quoted in a message


def shortened(value: object) -> str:
    """
    ``repr(value)``, cut in the middle when it is long, saying how long it was.

    Messages name the offending value; a 5,000-character path is named by
    its start and end: ``'/aaaa…zzzz' (5000 characters)``.
    """
    text = repr(value)
    if len(text) <= _LONGEST_SHOWN:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:70]}…{text[-20:]}{size}"


class InvalidPathError(CfinvError, ValueError):
    """
    One or more paths are invalid; nothing was sent to CloudFront.

    Every offending path is reported, not only the first, so a deploy can be
    fixed in one go.

    Attributes:
        problems: Each invalid path with the reason it was rejected.
    """

    _SHOWN = 10

    def __init__(self, problems: Iterable[PathProblem]) -> None:
        self.problems: tuple[PathProblem, ...] = tuple(problems)
        count = len(self.problems)
        shown = "; ".join(str(p) for p in self.problems[: self._SHOWN])
        more = f"; and {count - self._SHOWN} more" if count > self._SHOWN else ""
        noun = "path is" if count == 1 else "paths are"
        super().__init__(f"{count} invalid {noun} not sent: {shown}{more}")

    @property
    def paths(self) -> tuple[str, ...]:
        """The offending paths, as given."""
        return tuple(p.path for p in self.problems)


# --- the engine -------------------------------------------------------------------


class _CallStopped(CfinvError):
    """A call that stopped before it was done: what it created goes on at CloudFront."""

    def __init__(
        self,
        message: str,
        *,
        report: InvalidationReport | None = None,
        invalidations: tuple[Invalidation, ...] = (),
    ) -> None:
        super().__init__(message)
        self.report = report
        self.invalidations = invalidations


class InvalidationTimeout(_CallStopped, TimeoutError):
    """
    The timeout passed before every invalidation completed.

    Invalidations already created go on at CloudFront; nothing is lost:
    ``report`` lists each batch with its invalidation (or none, if it was
    never sent).  Resume with ``Invalidator.wait(ids)``.

    Attributes:
        report: The partial report of ``invalidate()`` (``None`` from ``wait()``).
        invalidations: Every invalidation created or waited on, as last seen.
    """


class InvalidatorClosed(_CallStopped, RuntimeError):
    """
    The Invalidator was closed: used after its ``async with`` block, or closed under a call.

    A call still running when the block ends (or ``aclose()`` is called)
    fails at once with this error; the invalidations it created go on at
    CloudFront, and ``report`` lists them.

    Attributes:
        report: The partial report of the ``invalidate()`` call that was
            cut short (``None`` for ``wait()`` or a call refused up front).
        invalidations: Every invalidation the call created or waited on, as last seen.
    """


class InvalidateManyError(CfinvError):
    """
    One or more distributions of ``invalidate_many()`` failed; the others finished.

    Attributes:
        reports: The reports of the distributions that succeeded.
        errors: Distribution id -> the error it failed with.
    """

    def __init__(
        self, reports: Mapping[str, InvalidationReport], errors: Mapping[str, BaseException]
    ) -> None:
        self.reports = dict(reports)
        self.errors = dict(errors)
        failed = "; ".join(f"{dist}: {exc}" for dist, exc in self.errors.items())
        super().__init__(
            f"{len(self.errors)} of {len(self.errors) + len(self.reports)} "
            f"distributions failed: {failed}"
        )


class ConfigurationError(CfinvError):
    """
    The AWS client cannot make the call: no credentials, a bad parameter, a TLS failure.

    Nothing reached CloudFront (or nothing could be trusted); retrying will
    not help until the configuration is fixed.
    """


# --- transport ------------------------------------------------------------------


class TransportError(CfinvError):
    """
    No usable answer arrived: the connection was refused, reset or timed out.

    The request may or may not have been processed.  cfinv retries creates
    with the same caller reference, so a retry never creates a second
    invalidation.
    """

    retryable = True


# --- errors CloudFront answered with --------------------------------------------


class CloudFrontError(CfinvError):
    """
    CloudFront answered with an error.

    Attributes:
        code: The ``Error.Code`` from the response, e.g. ``NoSuchDistribution``.
        message: CloudFront's message.
        status_code: The HTTP status code.
        request_id: ``x-amzn-RequestId``, for AWS support.
        operation: The API operation, e.g. ``CreateInvalidation``.
        context: What the call was about, e.g. ``distribution E2ABC, invalidation I9XYZ``.
        hint: What to do about it, in words a user can act on (``""`` if
            nothing useful can be said); the end of ``str(error)``.
    """

    hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        operation: str | None = None,
        context: str | None = None,
    ) -> None:
        self.code = code or type(self).__name__
        self.message = message
        self.status_code = status_code
        self.request_id = request_id
        self.operation = operation
        self.context = context
        self.hint = self._hint_for(message)
        where = f"{operation}: " if operation else ""
        about = f" ({context})" if context else ""
        hint = f" {self.hint}" if self.hint else ""
        super().__init__(f"{where}{self.code}: {message}{about}{hint}")

    @classmethod
    def _hint_for(cls, message: str) -> str:  # noqa: ARG003 - subclasses read the message
        return cls.hint


class AccessDenied(CloudFrontError):
    """The credentials in use may not perform this operation (HTTP 403)."""

    hint = (
        "Check that the credentials allow cloudfront:CreateInvalidation, "
        "GetInvalidation and ListInvalidations on this distribution."
    )


class MissingAuthenticationToken(AccessDenied):
    """The request was not signed (HTTP 403)."""

    hint = "Configure AWS credentials (environment variables, a profile, or an instance role)."


class InvalidClientTokenId(AccessDenied):
    """The access key id is not known to AWS (HTTP 403)."""

    hint = "Check AWS_ACCESS_KEY_ID or the profile in use."


class SignatureDoesNotMatch(AccessDenied):
    """
    The signature did not verify (HTTP 403).

    A wrong secret key, a clock more than 5 minutes off, or a request signed
    for a region other than us-east-1; ``hint`` says which to fix when the
    message tells.
    """

    hint = "Check AWS_SECRET_ACCESS_KEY or the profile in use, and the system clock."

    @classmethod
    def _hint_for(cls, message: str) -> str:
        text = message.casefold()
        if "scoped to a valid region" in text or "scoped to correct region" in text:
            return _US_EAST_1_HINT
        if "signature expired" in text or "signature not yet current" in text:
            return _CLOCK_HINT
        return cls.hint


_US_EAST_1_HINT = (
    "CloudFront requests are signed for us-east-1, whatever region the profile names; "
    "with a custom endpoint, set the region to us-east-1: --region us-east-1, "
    'AWS_DEFAULT_REGION=us-east-1, or region_name="us-east-1" for the client.'
)
_CLOCK_HINT = (
    "AWS accepts a request signed at most 5 minutes before or after its own time: "
    "set this host's clock right (e.g. with NTP)."
)


class NoSuchDistribution(CloudFrontError):
    """No distribution has this id (HTTP 404)."""

    hint = "Check the distribution id (14 characters, e.g. EDFDVBD6EXAMPLE) and the account."


class EntityNotFound(CloudFrontError):
    """No distribution tenant has this id (HTTP 404)."""

    hint = "Check the distribution tenant id and the account."


class NoSuchInvalidation(CloudFrontError):
    """No invalidation has this id on this distribution (HTTP 404)."""

    hint = "Check the invalidation id and that it belongs to this distribution."


class TooManyInvalidationsInProgress(CloudFrontError):
    """
    The distribution's in-progress budget (3,000 files / 15 wildcards) is full.

    cfinv's scheduler waits for capacity and retries instead of failing.
    """

    hint = "Wait until some invalidations complete, then retry."


class MissingBody(CloudFrontError):
    """The request carried no body (HTTP 400)."""


class InconsistentQuantities(CloudFrontError):
    """``Paths.Quantity`` disagrees with the number of ``Paths.Items`` (HTTP 400)."""

    hint = "Make Quantity equal to the number of Items (cfinv's Paths does this for you)."


class BatchTooLarge(CloudFrontError):
    """One batch carries more paths than the limits allow (HTTP 413)."""

    hint = "Split the paths into smaller batches (cfinv.plan_paths does this)."


class InvalidArgument(CloudFrontError):
    """CloudFront rejected an argument, e.g. an invalid path (HTTP 400)."""


class CallerReferenceConflict(CloudFrontError):
    """
    The caller reference was already used for a different batch.

    Raised for CloudFront's documented ``InvalidationBatchAlreadyExists`` and
    for the ``InvalidArgument`` answer it is observed to give instead.
    """

    hint = "Use a fresh CallerReference for every new batch."


class Throttling(CloudFrontError):
    """CloudFront refused the call: "Rate exceeded" (HTTP 400)."""

    retryable = True
    hint = "Slow down; CreateInvalidation allows about one request every two seconds."


class ServiceUnavailable(CloudFrontError):
    """CloudFront failed internally (HTTP 503, 500 or another 5xx)."""

    retryable = True
    hint = "This is on AWS's side; retry with backoff."


_BY_CODE: Mapping[str, type[CloudFrontError]] = {
    cls.__name__: cls
    for cls in (
        AccessDenied,
        MissingAuthenticationToken,
        InvalidClientTokenId,
        SignatureDoesNotMatch,
        NoSuchDistribution,
        EntityNotFound,
        NoSuchInvalidation,
        TooManyInvalidationsInProgress,
        MissingBody,
        InconsistentQuantities,
        BatchTooLarge,
        InvalidArgument,
        Throttling,
        ServiceUnavailable,
    )
} | {
    "InvalidationBatchAlreadyExists": CallerReferenceConflict,
    "ThrottlingException": Throttling,
    "TooManyRequestsException": Throttling,
    "RequestLimitExceeded": Throttling,
    "InternalError": ServiceUnavailable,
    "InternalFailure": ServiceUnavailable,
    "InternalServerError": ServiceUnavailable,
    "AccessDeniedException": AccessDenied,
    "UnrecognizedClientException": InvalidClientTokenId,
}

_CALLER_REFERENCE_USED = "caller reference that was used"


def _cloudfront_error(
    response: Mapping[str, Any], operation: str | None, context: str | None
) -> CloudFrontError:
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or "")
    status = metadata.get("HTTPStatusCode")
    status_code = int(status) if status is not None else None
    request_id = metadata.get("RequestId") or None

    cls = _BY_CODE.get(code)
    if cls is InvalidArgument and _CALLER_REFERENCE_USED in message.casefold():
        cls = CallerReferenceConflict
    if cls is None:
        if status_code is not None and status_code >= 500:  # noqa: PLR2004 - the 5xx class
            cls = ServiceUnavailable
        elif status_code == 403:  # noqa: PLR2004 - any other refusal to authenticate
            cls = AccessDenied
        else:
            cls = CloudFrontError
    return cls(
        message or f"HTTP {status_code}",
        code=code or None,
        status_code=status_code,
        request_id=request_id,
        operation=operation,
        context=context,
    )


def map_client_error(exc: BaseException, *, context: str | None = None) -> CfinvError:
    """
    Turn a botocore exception into the matching cfinv error.

    This is the single place that knows botocore's exception types.  Callers
    write ``raise map_client_error(exc) from exc``.

    Args:
        exc: A ``botocore.exceptions.ClientError`` (CloudFront answered with an
            error) or a ``botocore.exceptions.BotoCoreError`` / ``OSError``
            (no usable answer: connection refused, reset or timed out).
        context: What the call was about (``distribution E2ABC``), added to
            the message so that it names the offending value.

    Returns:
        A `CloudFrontError` subclass chosen by ``Error.Code`` (5xx
        without a known code become `ServiceUnavailable`), a
        `TransportError` (no usable answer), or a
        `ConfigurationError` (the client could not make the call).

    Raises:
        TypeError: ``exc`` is not an error from botocore or the network.
    """
    import aiohttp  # deferred, like botocore: both are heavy to import
    from botocore import exceptions as bce

    if isinstance(exc, CfinvError):
        return exc
    if isinstance(exc, bce.ClientError):
        operation = getattr(exc, "operation_name", None)
        return _cloudfront_error(exc.response, operation, context)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, bce.SSLError):
        return ConfigurationError(
            f"TLS with CloudFront failed ({text}); check the CA bundle or proxy settings"
        )
    transport = (bce.ConnectionError, bce.HTTPClientError, bce.IncompleteReadError)
    if isinstance(exc, (*transport, aiohttp.ClientError, OSError, TimeoutError)):
        # aiobotocore raises botocore's connection errors; an aiohttp error, a
        # raw OSError or a TimeoutError can still escape from the layer below.
        about = f" ({context})" if context else ""
        return TransportError(
            f"no usable answer from CloudFront ({type(exc).__name__}): {text}{about}"
        )
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return ConfigurationError(
            f"{text.rstrip('.')}. Configure AWS credentials: environment variables "
            "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), a profile (AWS_PROFILE) or a role."
        )
    if isinstance(exc, bce.BotoCoreError):
        return ConfigurationError(f"the AWS client refused the call ({type(exc).__name__}): {text}")
    msg = f"map_client_error() takes a botocore or network error, got {type(exc).__name__}: {exc}"
    raise TypeError(msg)
