"""
Test support for code that invalidates CloudFront: a wire-accurate local emulator.

``CloudFrontEmulator`` serves CloudFront's invalidation API over real HTTP on
``127.0.0.1``, with CloudFront's limits, caller-reference rules, create rate,
SigV4 checks and injectable faults.  ``VirtualClock`` runs the emulator and
the code under test on virtual time, so a fifteen-minute wait takes
milliseconds.  Point any AWS client at
`CloudFrontEmulator.endpoint_url`.  The pytest plugin (installed with
cfinv) provides the ``cloudfront_emulator`` fixture, and ``python -m
cfinv.testing`` (``cfinv serve``) runs the emulator standalone, driven from
any language through its JSON control API, or from Python by
``RemoteEmulator``.
"""

from __future__ import annotations

from cfinv.testing._backend import (
    ApiError,
    CallRecord,
    EmulatedInvalidation,
    FaultKind,
    RateLimit,
)
from cfinv.testing._clock import VirtualClock
from cfinv.testing._emulator import DEFAULT_RATE_LIMITS, CloudFrontEmulator
from cfinv.testing._remote import RemoteEmulator

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "ApiError",
    "CallRecord",
    "CloudFrontEmulator",
    "EmulatedInvalidation",
    "FaultKind",
    "RateLimit",
    "RemoteEmulator",
    "VirtualClock",
]
