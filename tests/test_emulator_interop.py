"""The emulator against independent real parts: the AWS CLI, and moto's server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import aiohttp
import attrs
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cfinv import Completed, InvalidationStatus, Invalidator, Runtime
from cfinv.testing import CloudFrontEmulator
from tests.conftest import SESSION, client_config
from tests.moto_support import moto_distribution

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
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
    "create time": "moto's CreateTime has microseconds; CloudFront's has milliseconds",
    "quantity": "moto accepts any Quantity and answers the number of Items; CloudFront "
    "refuses a Quantity that does not match them with InconsistentQuantities",
    "wildcards": "moto accepts a 16th wildcard in progress, and 16 in one batch; CloudFront "
    "allows 15 in progress",
    "paths": "moto accepts paths CloudFront refuses: no leading '/', an unencoded space",
    "tenants": "moto has no ...ForDistributionTenant operations: 404 with an HTML page",
    "list errors": "moto answers a bad Marker with JSON and a non-integer MaxItems with a 500 "
    "HTML page; CloudFront answers both 400 InvalidArgument in XML",
}


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
        CloudFrontEmulator(latency=600) as emu,  # InProgress, however slow the machine
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


# --- moto's deviations, request by request ----------------------------------------------------


XML_TYPES = {"text/xml", "application/xml"}


@attrs.frozen
class Answer:
    """A raw HTTP answer: what a client would have to parse."""

    status: int
    content_type: str
    body: str

    @property
    def error_code(self) -> str | None:
        """The <Code> of a CloudFront XML error, if the answer is one."""
        found = re.search(r"<Error>.*?<Code>([^<]*)</Code>", self.body, re.DOTALL)
        return found[1] if found and self.content_type in XML_TYPES else None


async def signed_request(endpoint: str, method: str, path: str, body: bytes = b"") -> Answer:
    """Send ``body`` signed for CloudFront by botocore's SigV4 signer; return the raw answer."""
    url = endpoint + path
    request = AWSRequest(method=method, url=url, data=body)
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    signer: Any = SigV4Auth(Credentials("testing", "testing"), "cloudfront", "us-east-1")
    signer.add_auth(request)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=dict(request.headers)) as response,
    ):
        return Answer(response.status, response.content_type, await response.text())


def batch_xml(paths: list[str], reference: str, *, quantity: int | None = None) -> bytes:
    """An InvalidationBatch as CreateInvalidation's body; ``quantity`` defaults to the truth."""
    items = "".join(f"<Path>{escape(p)}</Path>" for p in paths)
    count = len(paths) if quantity is None else quantity
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
        f"<Paths><Quantity>{count}</Quantity><Items>{items}</Items></Paths>"
        f"<CallerReference>{escape(reference)}</CallerReference></InvalidationBatch>"
    ).encode()


@attrs.frozen
class Peers:
    """Moto's server and cfinv's emulator, each with a distribution, for the same raw requests."""

    moto: str
    moto_distribution: str
    emulator: CloudFrontEmulator
    distribution: str

    async def both(self, method: str, path: str, body: bytes = b"") -> tuple[Answer, Answer]:
        """The same request to each server: ``{dist}`` in ``path`` names its distribution."""
        from_moto = await signed_request(
            self.moto, method, path.format(dist=self.moto_distribution), body
        )
        from_emu = await signed_request(
            self.emulator.endpoint_url, method, path.format(dist=self.distribution), body
        )
        return from_moto, from_emu


@pytest.fixture
async def peers(moto_endpoint: str) -> AsyncIterator[Peers]:
    """Moto's server and an emulator (invalidations InProgress), a distribution on each."""
    async with (
        CloudFrontEmulator(latency=600, rate_limits=None, runtime=Runtime.seeded(5)) as emu,
        SESSION.create_client(
            "cloudfront",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ) as moto_cf,
    ):
        yield Peers(moto_endpoint, await moto_distribution(moto_cf), emu, emu.create_distribution())


CREATE = "/2020-05-31/distribution/{dist}/invalidation"


async def test_moto_create_time_has_microseconds(peers: Peers) -> None:
    """Create time: moto sends six fractional digits; CloudFront (and the emulator) three."""
    from_moto, from_emu = await peers.both("POST", CREATE, batch_xml(["/a"], "time-1"))
    assert (201, 201) == (from_moto.status, from_emu.status)
    create_time = re.compile(r"<CreateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d+)Z</CreateTime>")
    moto_time, emu_time = create_time.search(from_moto.body), create_time.search(from_emu.body)
    assert moto_time
    assert emu_time
    assert (6, 3) == (len(moto_time[1]), len(emu_time[1]))


async def test_moto_accepts_any_quantity(peers: Peers) -> None:
    """Quantity: moto takes Quantity 7 for two paths and answers 2; CloudFront refuses it."""
    body = batch_xml(["/a", "/b"], "quantity-1", quantity=7)
    from_moto, from_emu = await peers.both("POST", CREATE, body)
    assert 201 == from_moto.status
    assert "<Quantity>2</Quantity>" in from_moto.body
    assert (400, "InconsistentQuantities") == (from_emu.status, from_emu.error_code)


async def test_moto_accepts_a_sixteenth_wildcard(peers: Peers) -> None:
    """Wildcards: moto takes a 16th wildcard while 15 are in progress, and 16 in one batch."""
    fifteen = batch_xml([f"/w{n}/*" for n in range(15)], "wildcards-1")
    sixteenth = batch_xml(["/w15/*"], "wildcards-2")
    sixteen = batch_xml([f"/x{n}/*" for n in range(16)], "wildcards-3")
    answers = [await peers.both("POST", CREATE, body) for body in (fifteen, sixteenth, sixteen)]
    assert [201, 201, 201] == [moto.status for moto, _ in answers]
    assert [
        (201, None),
        (400, "TooManyInvalidationsInProgress"),
        (413, "BatchTooLarge"),
    ] == [(emu.status, emu.error_code) for _, emu in answers]


@pytest.mark.parametrize("path", ["index.html", "/a b"])
async def test_moto_accepts_invalid_paths(peers: Peers, path: str) -> None:
    """Paths: moto takes a path without its leading '/' or with a space; CloudFront refuses it."""
    from_moto, from_emu = await peers.both("POST", CREATE, batch_xml([path], "paths-1"))
    assert 201 == from_moto.status
    assert f"<Path>{path}</Path>" in from_moto.body
    assert (400, "InvalidArgument") == (from_emu.status, from_emu.error_code)


@pytest.mark.parametrize(
    ("method", "suffix", "emulator_answer"),
    [
        ("POST", "", (201, None)),
        ("GET", "", (200, None)),
        ("GET", "/I2J0I21PCUYOIK", (404, "NoSuchInvalidation")),
    ],
)
async def test_moto_has_no_tenant_operations(
    peers: Peers, method: str, suffix: str, emulator_answer: tuple[int, str | None]
) -> None:
    """Tenants: moto answers the ...ForDistributionTenant operations 404 with an HTML page."""
    tenant = peers.emulator.create_distribution_tenant()
    path = f"/2020-05-31/distribution-tenant/{tenant}/invalidation{suffix}"
    body = batch_xml(["/a"], "tenant-1") if method == "POST" else b""
    from_moto = await signed_request(peers.moto, method, path, body)
    from_emu = await signed_request(peers.emulator.endpoint_url, method, path, body)
    assert (404, "text/html") == (from_moto.status, from_moto.content_type)
    assert emulator_answer == (from_emu.status, from_emu.error_code)


@pytest.mark.parametrize(
    ("query", "moto_status", "moto_type"),
    [
        ("Marker=INOSUCHMARKER", 400, "application/json"),
        ("MaxItems=ten", 500, "text/html"),
    ],
)
async def test_moto_list_errors_are_not_xml(
    peers: Peers, query: str, moto_status: int, moto_type: str
) -> None:
    """List errors: moto answers a bad Marker or MaxItems in JSON or HTML; CloudFront in XML."""
    from_moto, from_emu = await peers.both("GET", f"{CREATE}?{query}")
    assert (moto_status, moto_type, None) == (
        from_moto.status,
        from_moto.content_type,
        from_moto.error_code,
    )
    assert (400, "text/xml", "InvalidArgument") == (
        from_emu.status,
        from_emu.content_type,
        from_emu.error_code,
    )
