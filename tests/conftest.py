"""Shared fixtures: the emulator on the test's event loop, clients, a fake clock."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from hypothesis import settings

from cfinv.testing import CloudFrontEmulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from types_aiobotocore_cloudfront import CloudFrontClient

settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile("ci")

# No test may reach a real AWS account, whatever the developer's shell holds.
for _name in (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_CLOUDFRONT",
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


class FakeClock:
    """A settable UTC wall clock for the emulator: tests move time, never sleep."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator() -> AsyncIterator[CloudFrontEmulator]:
    """An emulator on the test's loop: 50 ms latency, default limits and rates."""
    async with CloudFrontEmulator(latency=0.05, seed=7) as emu:
        yield emu


def client_config(**overrides: Any) -> AioConfig:
    """Botocore retries off, so a test sees exactly what the server answered."""
    options: dict[str, Any] = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
    options.update(overrides)
    return AioConfig(**options)


@pytest.fixture
async def client(emulator: CloudFrontEmulator) -> AsyncIterator[CloudFrontClient]:
    """A real aiobotocore CloudFront client pointed at the emulator, without retries."""
    session = get_session()
    async with session.create_client(
        "cloudfront", config=client_config(), **emulator.client_kwargs()
    ) as cf:
        yield cf
