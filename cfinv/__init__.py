"""
cfinv: fast, cheap and safe Amazon CloudFront invalidations for async deploy pipelines.

The public API is what this module exports (``cfinv.__all__``); every other
module is internal and may change without notice.
"""

from __future__ import annotations

from cfinv.errors import (
    AccessDenied,
    BatchTooLarge,
    CallerReferenceConflict,
    CfinvError,
    CloudFrontError,
    ConfigurationError,
    EntityNotFound,
    InconsistentQuantities,
    InvalidArgument,
    InvalidateManyError,
    InvalidationTimeout,
    InvalidatorClosed,
    InvalidClientTokenId,
    InvalidPathError,
    MissingAuthenticationToken,
    MissingBody,
    NoSuchDistribution,
    NoSuchInvalidation,
    PathProblem,
    ServiceUnavailable,
    SignatureDoesNotMatch,
    Throttling,
    TooManyInvalidationsInProgress,
    TransportError,
    map_client_error,
)
from cfinv.events import (
    Completed,
    Event,
    Finished,
    Planned,
    Polled,
    Retrying,
    Submitted,
    WaitingForCapacity,
)
from cfinv.invalidator import Invalidator, invalidate_many
from cfinv.models import (
    Invalidation,
    InvalidationBatch,
    InvalidationStatus,
    InvalidationSummary,
    Limits,
    Paths,
)
from cfinv.pacing import CreatePacer
from cfinv.paths import Plan, covers, normalize_path, path_problem, plan_paths
from cfinv.policies import PollPolicy, RetryPolicy
from cfinv.report import BatchResult, InvalidationReport

__all__ = [
    "AccessDenied",
    "BatchResult",
    "BatchTooLarge",
    "CallerReferenceConflict",
    "CfinvError",
    "CloudFrontError",
    "Completed",
    "ConfigurationError",
    "CreatePacer",
    "EntityNotFound",
    "Event",
    "Finished",
    "InconsistentQuantities",
    "InvalidArgument",
    "InvalidClientTokenId",
    "InvalidPathError",
    "InvalidateManyError",
    "Invalidation",
    "InvalidationBatch",
    "InvalidationReport",
    "InvalidationStatus",
    "InvalidationSummary",
    "InvalidationTimeout",
    "Invalidator",
    "InvalidatorClosed",
    "Limits",
    "MissingAuthenticationToken",
    "MissingBody",
    "NoSuchDistribution",
    "NoSuchInvalidation",
    "PathProblem",
    "Paths",
    "Plan",
    "Planned",
    "PollPolicy",
    "Polled",
    "RetryPolicy",
    "Retrying",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "Submitted",
    "Throttling",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "WaitingForCapacity",
    "covers",
    "invalidate_many",
    "map_client_error",
    "normalize_path",
    "path_problem",
    "plan_paths",
]


def __getattr__(name: str) -> str:
    # The version comes from the installed package's metadata, read on first use.
    if name == "__version__":
        from importlib.metadata import version

        return version("cfinv")
    msg = f"module 'cfinv' has no attribute {name!r}"
    raise AttributeError(msg)
