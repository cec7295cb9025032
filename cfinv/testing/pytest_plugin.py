"""
The pytest plugin cfinv installs: the ``cloudfront_emulator`` fixture.

The fixture runs a `CloudFrontEmulator` in a background
thread for one test, so it serves synchronous tests, asyncio tests and
subprocesses alike.  Options come from the ``cloudfront_emulator`` marker:

    @pytest.mark.cloudfront_emulator(latency=0.2, conflict_code="documented")
    def test_deploy(cloudfront_emulator): ...

This module imports nothing heavy until a test asks for the fixture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cfinv.testing import CloudFrontEmulator

#: What the fixture passes to ``CloudFrontEmulator`` unless the marker says otherwise:
#: invalidations complete after 50 ms, so tests stay fast.
FIXTURE_DEFAULTS = {"latency": 0.05}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``cloudfront_emulator`` marker."""
    config.addinivalue_line(
        "markers",
        "cloudfront_emulator(**options): keyword arguments for the cloudfront_emulator "
        "fixture's CloudFrontEmulator (e.g. latency=0.2, rate_limits=None).",
    )


@pytest.fixture
def cloudfront_emulator(request: pytest.FixtureRequest) -> Iterator[CloudFrontEmulator]:
    """
    A running CloudFront emulator for one test (latency 50 ms unless the marker sets it).

    Point clients at ``cloudfront_emulator.endpoint_url`` with the credentials
    ``testing``/``testing``, or pass ``**cloudfront_emulator.client_kwargs()``
    to ``create_client("cloudfront", ...)``, or set
    ``cloudfront_emulator.environ()`` in the environment.
    """
    from cfinv.testing import CloudFrontEmulator

    marker = request.node.get_closest_marker("cloudfront_emulator")
    options = {**FIXTURE_DEFAULTS, **(marker.kwargs if marker else {})}
    with CloudFrontEmulator(**options) as emulator:
        yield emulator
