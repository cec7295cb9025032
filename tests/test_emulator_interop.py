"""The emulator against independent real parts: the AWS CLI, and moto's server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from cfinv import Completed, InvalidationStatus, Invalidator, Runtime
from cfinv.testing import CloudFrontEmulator
from tests.conftest import SESSION, client_config
from tests.moto_support import moto_distribution

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from types_aiobotocore_cloudfront import CloudFrontClient


def aws(emulator: CloudFrontEmulator, *args: str) -> Any:
    """Run the real AWS CLI (awscli from PyPI) against the emulator; return its JSON."""
    env = {**os.environ, **emulator.environ(), "AWS_PAGER": ""}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "cloudfront",
            *args,
            "--endpoint-url",
            emulator.endpoint_url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def threaded_emulator() -> Iterator[CloudFrontEmulator]:
    """The emulator in a background thread, so a subprocess can call it while we wait."""
    with CloudFrontEmulator(latency=0.05, runtime=Runtime.seeded(11)) as emu:
        yield emu


def test_aws_cli_create_with_paths(threaded_emulator: CloudFrontEmulator) -> None:
    """`aws cloudfront create-invalidation --paths` works and gets a cli-<epoch>-<n> reference."""
    dist = threaded_emulator.create_distribution()
    out = aws(
        threaded_emulator, "create-invalidation", "--distribution-id", dist, "--paths", "/a", "/b/*"
    )
    inv = out["Invalidation"]
    assert out["Location"].startswith(threaded_emulator.endpoint_url)
    assert inv["Status"] == "InProgress"
    assert inv["InvalidationBatch"]["Paths"] == {"Quantity": 2, "Items": ["/a", "/b/*"]}
    assert inv["InvalidationBatch"]["CallerReference"].startswith("cli-")
    # The AWS CLI prints CreateTime as CloudFront sent it.
    dt.datetime.strptime(inv["CreateTime"], "%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: DTZ007


def test_aws_cli_batch_file_get_list_and_wait(
    threaded_emulator: CloudFrontEmulator, tmp_path: Path
) -> None:
    """--invalidation-batch file://, get-invalidation, list-invalidations and the waiter work."""
    dist = threaded_emulator.create_distribution()
    batch_file = tmp_path / "batch.json"
    batch_file.write_text(
        json.dumps({"Paths": {"Quantity": 1, "Items": ["/index.html"]}, "CallerReference": "f1"})
    )
    created = aws(
        threaded_emulator,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        f"file://{batch_file}",
    )
    inv_id = created["Invalidation"]["Id"]
    assert created["Invalidation"]["InvalidationBatch"]["CallerReference"] == "f1"

    # The waiter's first GetInvalidation comes after the 50 ms latency: no 20 s sleep.
    aws(
        threaded_emulator,
        "wait",
        "invalidation-completed",
        "--distribution-id",
        dist,
        "--id",
        inv_id,
    )
    got = aws(threaded_emulator, "get-invalidation", "--distribution-id", dist, "--id", inv_id)
    assert got["Invalidation"]["Status"] == "Completed"

    listed = aws(threaded_emulator, "list-invalidations", "--distribution-id", dist)
    assert [inv_id] == [i["Id"] for i in listed["InvalidationList"]["Items"]]
    assert ["Completed"] == [i["Status"] for i in listed["InvalidationList"]["Items"]]


def test_aws_cli_sees_errors_with_their_codes(threaded_emulator: CloudFrontEmulator) -> None:
    """The CLI reports the emulator's error code and exits non-zero."""
    env = {**os.environ, **threaded_emulator.environ()}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "cloudfront",
            "get-invalidation",
            "--distribution-id",
            "ENOSUCHDIST1234",
            "--id",
            "I1",
            "--endpoint-url",
            threaded_emulator.endpoint_url,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 255  # AWS CLI v1's code for a service error (v2 uses 254)
    assert "(NoSuchDistribution)" in done.stderr


# --- parity with moto's server ---------------------------------------------------------

# Where moto (5.x) knowingly differs from CloudFront, and so from the emulator:
MOTO_DEVIATIONS = {
    "status casing": "moto answers COMPLETED at once; CloudFront InProgress, then Completed",
    "list order": "moto lists oldest first; CloudFront newest first",
    "marker format": "moto's NextMarker is an opaque token; CloudFront's is the last Id",
    "location": "moto's Location names cloudfront.amazonaws.com, not the server it runs on",
    "caller reference": "moto creates a new invalidation for a repeated CallerReference",
}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """Moto's server, started on loopback for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def shape(value: Any) -> Any:
    """Keys and value types of a botocore response, without the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


async def exercise(cf: CloudFrontClient, dist: str) -> dict[str, Any]:
    """The same create/get/list requests, whatever the server."""
    created = await cf.create_invalidation(
        DistributionId=dist,
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/a", "/b/*"]},
            "CallerReference": "p1",
        },
    )
    await cf.create_invalidation(
        DistributionId=dist,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/c"]}, "CallerReference": "p2"},
    )
    inv_id = created["Invalidation"]["Id"]
    got = await cf.get_invalidation(DistributionId=dist, Id=inv_id)
    page = await cf.list_invalidations(DistributionId=dist, MaxItems="1")
    return {"create": created, "get": got, "list": page}


async def test_same_requests_give_the_same_shapes_as_moto(moto_endpoint: str) -> None:
    """create/get/list parse into the same keys and types from both servers."""
    session = SESSION
    credentials: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    async with (
        CloudFrontEmulator(latency=0.05) as emu,
        session.create_client(
            "cloudfront", endpoint_url=moto_endpoint, config=client_config(), **credentials
        ) as moto_cf,
        session.create_client(
            "cloudfront", config=client_config(), **emu.client_kwargs()
        ) as emu_cf,
    ):
        from_moto = await exercise(moto_cf, await moto_distribution(moto_cf))
        from_emu = await exercise(emu_cf, emu.create_distribution())
        emu_url = emu.endpoint_url

    assert shape(from_moto) == shape(from_emu)
    # The documented deviations, checked so this list stays true.
    assert from_moto["get"]["Invalidation"]["Status"] == "COMPLETED"
    assert from_emu["get"]["Invalidation"]["Status"] == "InProgress"
    moto_first = from_moto["list"]["InvalidationList"]["Items"][0]["Id"]
    emu_first = from_emu["list"]["InvalidationList"]["Items"][0]["Id"]
    assert moto_first == from_moto["create"]["Invalidation"]["Id"]  # oldest first
    assert emu_first != from_emu["create"]["Invalidation"]["Id"]  # newest first
    assert from_emu["list"]["InvalidationList"]["NextMarker"] == emu_first
    assert from_moto["list"]["InvalidationList"]["NextMarker"] != moto_first
    assert from_moto["create"]["Location"].startswith("https://cloudfront.amazonaws.com/")
    assert from_emu["create"]["Location"].startswith(emu_url)


async def test_the_invalidator_against_moto(moto_endpoint: str) -> None:
    """Moto answers COMPLETED at once: invalidate() completes without polling."""
    async with SESSION.create_client(
        "cloudfront",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as cf:
        dist = await moto_distribution(cf)
        completed: list[Completed] = []
        report = await Invalidator(
            dist,
            client=cf,
            on_event=lambda e: completed.extend([e] if isinstance(e, Completed) else []),
        ).invalidate(["/index.html", "/img/*"])
    assert report.completed
    assert report.invalidations[0].status is InvalidationStatus.COMPLETED
    assert len(completed) == 1  # reported, though complete when created: nothing was polled
    assert completed[0].seconds == 0
