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
    EntityNotFound,
    InconsistentQuantities,
    InvalidArgument,
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
from cfinv.models import (
    Invalidation,
    InvalidationBatch,
    InvalidationStatus,
    Limits,
    Paths,
)
from cfinv.paths import Plan, covers, normalize_path, path_problem, plan_paths

__all__ = [
    "AccessDenied",
    "BatchTooLarge",
    "CallerReferenceConflict",
    "CfinvError",
    "CloudFrontError",
    "EntityNotFound",
    "InconsistentQuantities",
    "InvalidArgument",
    "InvalidClientTokenId",
    "InvalidPathError",
    "Invalidation",
    "InvalidationBatch",
    "InvalidationStatus",
    "Limits",
    "MissingAuthenticationToken",
    "MissingBody",
    "NoSuchDistribution",
    "NoSuchInvalidation",
    "PathProblem",
    "Paths",
    "Plan",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "Throttling",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "covers",
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
