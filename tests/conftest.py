"""Shared fixtures: virtual clocks, the emulator on the test's event loop, clients."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from hypothesis import HealthCheck, settings

from cfinv.testing import CloudFrontEmulator, VirtualClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from types_aiobotocore_cloudfront import CloudFrontClient

# No deadline and no "too slow" health check: both depend on how fast (and how
# loaded) the machine is, and a test's outcome must not.  Derandomized: the same
# examples on every run, so a property test passes or fails the same way each time.
settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("ci")

# No test may reach a real AWS account, whatever the developer's shell holds; and
# no test may take a deploy id from the CI system the suite happens to run in.
for _name in (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_CLOUDFRONT",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "CIRCLECI",
    "BUILDKITE",
    "JENKINS_URL",
):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """
    ``-n auto``: two workers per core.

    Much of the suite waits (for a CLI process to start, for a docs example's
    emulator on real time), so twice as many workers as cores keep the cores
    busy.  Outcomes do not depend on it: timing-sensitive tests run on virtual time.
    """
    del config
    return min(2 * (os.cpu_count() or 1), 16)


#: ``verify=`` for clients of the emulator: its endpoint is plain HTTP, so no TLS is
#: ever spoken, and not loading a CA bundle saves 50 ms of CPU per client.
PLAIN_HTTP = False

#: One aiobotocore session for the whole run: it loads CloudFront's service model
#: once (about 0.1 s) instead of once per client.
SESSION = get_session()


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual clock that moves only when the test calls ``clock.advance()``."""
    return VirtualClock()


@pytest.fixture
async def virtual() -> AsyncIterator[VirtualClock]:
    """A virtual clock driving the test's event loop: it jumps whenever everything waits."""
    async with VirtualClock() as running:
        yield running


@pytest.fixture
async def emulator(virtual: VirtualClock) -> AsyncIterator[CloudFrontEmulator]:
    """An emulator on the test's loop and virtual time: 50 ms latency, default limits and rates."""
    async with CloudFrontEmulator(latency=0.05, runtime=virtual.runtime(seed=7)) as emu:
        yield emu


def client_config(**overrides: Any) -> AioConfig:
    """Botocore retries off, so a test sees exactly what the server answered."""
    options: dict[str, Any] = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
    options.update(overrides)
    return AioConfig(**options)


@pytest.fixture
async def client(emulator: CloudFrontEmulator) -> AsyncIterator[CloudFrontClient]:
    """A real aiobotocore CloudFront client pointed at the emulator, without retries."""
    async with SESSION.create_client(
        "cloudfront", config=client_config(), verify=PLAIN_HTTP, **emulator.client_kwargs()
    ) as cf:
        yield cf


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """Moto's server (S3, CloudFront, ...) on loopback, one per test module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
