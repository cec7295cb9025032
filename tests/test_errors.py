"""Specs for the error tree and the one mapping from botocore's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

import cfinv
from cfinv import errors


def client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    """A ClientError shaped exactly as botocore builds it from an error response."""
    response: Any = {
        "Error": {"Type": "Sender", "Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": status},
    }
    return ClientError(response, "CreateInvalidation")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("NoSuchDistribution", 404, errors.NoSuchDistribution),
        ("EntityNotFound", 404, errors.EntityNotFound),
        ("NoSuchInvalidation", 404, errors.NoSuchInvalidation),
        ("AccessDenied", 403, errors.AccessDenied),
        ("MissingAuthenticationToken", 403, errors.MissingAuthenticationToken),
        ("InvalidClientTokenId", 403, errors.InvalidClientTokenId),
        ("SignatureDoesNotMatch", 403, errors.SignatureDoesNotMatch),
        ("TooManyInvalidationsInProgress", 400, errors.TooManyInvalidationsInProgress),
        ("MissingBody", 400, errors.MissingBody),
        ("InconsistentQuantities", 400, errors.InconsistentQuantities),
        ("BatchTooLarge", 413, errors.BatchTooLarge),
        ("InvalidArgument", 400, errors.InvalidArgument),
        ("InvalidationBatchAlreadyExists", 400, errors.CallerReferenceConflict),
        ("Throttling", 400, errors.Throttling),
        ("ServiceUnavailable", 503, errors.ServiceUnavailable),
        ("InternalError", 500, errors.ServiceUnavailable),
        ("SomethingNew", 502, errors.ServiceUnavailable),
        ("SomethingNew", 400, errors.CloudFrontError),
    ],
)
def test_codes_map_to_their_class(code: str, status: int, expected: type[Exception]) -> None:
    """Every CloudFront error code in cloudfront.md has its own class."""
    mapped = errors.map_client_error(client_error(code, "msg", status))
    assert type(mapped) is expected
    assert isinstance(mapped, errors.CloudFrontError)
    assert mapped.code == code
    assert mapped.status_code == status
    assert mapped.request_id == "req-1"
    assert mapped.operation == "CreateInvalidation"
    assert code in str(mapped)


def test_observed_caller_reference_reuse_is_a_conflict() -> None:
    """CloudFront's observed InvalidArgument wording for reuse maps to the conflict."""
    message = (
        "Your request contains a caller reference that was used for a previous "
        "invalidation batch for the same distribution."
    )
    assert isinstance(
        errors.map_client_error(client_error("InvalidArgument", message)),
        errors.CallerReferenceConflict,
    )
    other = errors.map_client_error(
        client_error(
            "InvalidArgument", "Your request contains one or more invalid invalidation paths."
        )
    )
    assert type(other) is errors.InvalidArgument


def test_only_throttling_5xx_and_transport_are_retryable() -> None:
    """The retry policy reads `retryable`; fail-fast errors must say False."""
    retryable = {
        name
        for name in cfinv.__all__
        if isinstance(obj := getattr(cfinv, name), type)
        and issubclass(obj, errors.CfinvError)
        and obj.retryable
    }
    assert {"ServiceUnavailable", "Throttling", "TransportError"} == retryable


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
        ConnectionResetError("reset by peer"),
    ],
)
def test_connection_errors_become_transport_errors(exc: Exception) -> None:
    """No usable answer is a TransportError (retryable)."""
    mapped = errors.map_client_error(exc)
    assert type(mapped) is errors.TransportError
    assert mapped.retryable


def test_unrelated_exceptions_are_a_type_error() -> None:
    """Only botocore and network errors can be mapped."""
    with pytest.raises(TypeError, match="KeyError"):
        errors.map_client_error(KeyError("x"))


def test_invalid_path_error_lists_every_problem() -> None:
    """Every offending path is carried, and the message shows them."""
    problems = [errors.PathProblem(f"/p{i}*x", "'*' may only be last") for i in range(12)]
    exc = errors.InvalidPathError(problems)
    assert len(exc.problems) == 12
    assert "12 invalid paths" in str(exc)
    assert "'/p0*x'" in str(exc)
    assert "and 2 more" in str(exc)


def test_module_docstring_draws_every_error() -> None:
    """The errors module's docstring tree names every error class it defines."""
    doc = errors.__doc__ or ""
    classes = [
        name
        for name in errors.__all__
        if isinstance(obj := getattr(errors, name), type) and issubclass(obj, Exception)
    ]
    for name in classes:
        assert name in doc, name
