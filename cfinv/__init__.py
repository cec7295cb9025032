"""
cfinv: fast, cheap and safe Amazon CloudFront invalidations for async deploy pipelines.

The public API is what this module exports (``cfinv.__all__``); every other
module is internal and may change without notice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfinv._blocking import invalidate_blocking, invalidate_many_blocking
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
    from cfinv.runtime import Runtime
    from cfinv.trees import TreeSourceError, load_tree

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
    "Runtime",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "Submitted",
    "Throttling",
    "TooManyInvalidationsInProgress",
    "TransportError",
    "TreeSourceError",
    "WaitingForCapacity",
    "covers",
    "invalidate_blocking",
    "invalidate_many",
    "invalidate_many_blocking",
    "load_tree",
    "map_client_error",
    "normalize_path",
    "path_problem",
    "plan_paths",
]


# A library does not configure logging; the application does (events are logged
# through the "cfinv" logger).
logging.getLogger("cfinv").addHandler(logging.NullHandler())

# Where each public name lives.  Nothing is imported until first use, so
# `import cfinv` (and the `cfinv` command's start-up) stays fast.
_LOCATIONS = {
    "AccessDenied": "cfinv.errors",
    "BatchResult": "cfinv.report",
    "BatchTooLarge": "cfinv.errors",
    "CallerReferenceConflict": "cfinv.errors",
    "CfinvError": "cfinv.errors",
    "CloudFrontError": "cfinv.errors",
    "Completed": "cfinv.events",
    "ConfigurationError": "cfinv.errors",
    "CreatePacer": "cfinv.pacing",
    "EntityNotFound": "cfinv.errors",
    "Event": "cfinv.events",
    "Finished": "cfinv.events",
    "InconsistentQuantities": "cfinv.errors",
    "InvalidArgument": "cfinv.errors",
    "InvalidClientTokenId": "cfinv.errors",
    "InvalidPathError": "cfinv.errors",
    "InvalidateManyError": "cfinv.errors",
    "Invalidation": "cfinv.models",
    "InvalidationBatch": "cfinv.models",
    "InvalidationReport": "cfinv.report",
    "InvalidationStatus": "cfinv.models",
    "InvalidationSummary": "cfinv.models",
    "InvalidationTimeout": "cfinv.errors",
    "Invalidator": "cfinv.invalidator",
    "InvalidatorClosed": "cfinv.errors",
    "Limits": "cfinv.models",
    "MissingAuthenticationToken": "cfinv.errors",
    "MissingBody": "cfinv.errors",
    "NoSuchDistribution": "cfinv.errors",
    "NoSuchInvalidation": "cfinv.errors",
    "PathProblem": "cfinv.errors",
    "Paths": "cfinv.models",
    "Plan": "cfinv.paths",
    "Planned": "cfinv.events",
    "PollPolicy": "cfinv.policies",
    "Polled": "cfinv.events",
    "RetryPolicy": "cfinv.policies",
    "Retrying": "cfinv.events",
    "Runtime": "cfinv.runtime",
    "ServiceUnavailable": "cfinv.errors",
    "SignatureDoesNotMatch": "cfinv.errors",
    "Submitted": "cfinv.events",
    "Throttling": "cfinv.errors",
    "TooManyInvalidationsInProgress": "cfinv.errors",
    "TransportError": "cfinv.errors",
    "TreeSourceError": "cfinv.trees",
    "WaitingForCapacity": "cfinv.events",
    "covers": "cfinv.paths",
    "invalidate_blocking": "cfinv._blocking",
    "invalidate_many": "cfinv.invalidator",
    "invalidate_many_blocking": "cfinv._blocking",
    "map_client_error": "cfinv.errors",
    "normalize_path": "cfinv.paths",
    "path_problem": "cfinv.paths",
    "plan_paths": "cfinv.paths",
    "load_tree": "cfinv.trees",
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - any public object
    if name == "__version__":
        from importlib.metadata import version

        return version("cfinv")
    module = _LOCATIONS.get(name)
    if module is None:
        msg = f"module 'cfinv' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
