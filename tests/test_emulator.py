"""Specs for the CloudFront emulator, through a real aiobotocore client over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import aiohttp
import botocore
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from cfinv import (
    CallerReferenceConflict,
    CloudFrontError,
    InvalidationStatus,
    Limits,
    map_client_error,
)
from cfinv.testing import CloudFrontEmulator, FaultKind, VirtualClock
from tests.conftest import SESSION, client_config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from types_aiobotocore_cloudfront import CloudFrontClient

NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


def batch(*paths: str, ref: str = "ref-1", quantity: int | None = None) -> Any:
    return {
        "Paths": {"Quantity": len(paths) if quantity is None else quantity, "Items": list(paths)},
        "CallerReference": ref,
    }


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response: Any = info.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


@pytest.fixture
async def fake_time_emulator(clock: VirtualClock) -> AsyncIterator[CloudFrontEmulator]:
    """An emulator whose clock only moves when the test says so."""
    async with CloudFrontEmulator(latency=60, runtime=clock.runtime(), rate_limits=None) as emu:
        yield emu


@pytest.fixture
async def fake_time_client(
    fake_time_emulator: CloudFrontEmulator,
) -> AsyncIterator[CloudFrontClient]:
    async with SESSION.create_client(
        "cloudfront", config=client_config(), **fake_time_emulator.client_kwargs()
    ) as cf:
        yield cf


# --- the happy path -----------------------------------------------------------------


async def test_create_get_list_round_trip(
    fake_time_emulator: CloudFrontEmulator, fake_time_client: CloudFrontClient, clock: VirtualClock
) -> None:
    """An invalidation is InProgress until its latency has passed, then Completed."""
    emu, cf = fake_time_emulator, fake_time_client
    dist = emu.create_distribution()
    created = await cf.create_invalidation(
        DistributionId=dist, InvalidationBatch=batch("/index.html", "/img/*")
    )
    inv = created["Invalidation"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["Location"] == (
        f"{emu.endpoint_url}/2020-05-31/distribution/{dist}/invalidation/{inv['Id']}"
    )
    assert re.fullmatch(r"[A-Z0-9]{13,15}", inv["Id"])
    assert inv["Status"] == "InProgress"
    assert inv["CreateTime"] == clock.now()
    assert inv["InvalidationBatch"] == batch("/index.html", "/img/*")

    got = await cf.get_invalidation(DistributionId=dist, Id=inv["Id"])
    assert got["Invalidation"]["Status"] == "InProgress"
    clock.advance(59.9)
    got = await cf.get_invalidation(DistributionId=dist, Id=inv["Id"])
    assert got["Invalidation"]["Status"] == "InProgress"
    clock.advance(0.1)
    got = await cf.get_invalidation(DistributionId=dist, Id=inv["Id"])
    assert got["Invalidation"]["Status"] == "Completed"

    listed = (await cf.list_invalidations(DistributionId=dist))["InvalidationList"]
    assert listed["Quantity"] == 1
    assert listed["IsTruncated"] is False
    assert [(inv["Id"], "Completed")] == [(i["Id"], i["Status"]) for i in listed["Items"]]
    assert re.fullmatch(r"E[A-Z0-9]{13}", dist)


async def test_response_headers_and_raw_xml(emulator: CloudFrontEmulator) -> None:
    """The raw wire: 201, Location, x-amzn-RequestId, namespaced XML with milliseconds."""
    dist = emulator.create_distribution()
    body = (
        f'<InvalidationBatch xmlns="{NS}"><Paths><Quantity>1</Quantity><Items>'
        "<Path>/a</Path></Items></Paths><CallerReference>raw</CallerReference></InvalidationBatch>"
    )
    status, headers, text = await signed_request(
        emulator, "POST", f"/2020-05-31/distribution/{dist}/invalidation", body.encode()
    )
    assert status == 201
    assert headers["Location"].startswith(emulator.endpoint_url)
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-RequestId"])
    assert text.startswith('<?xml version="1.0"?>')
    assert f'<Invalidation xmlns="{NS}">' in text
    assert re.search(r"<CreateTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</CreateTime>", text)


async def test_any_element_order_is_accepted(emulator: CloudFrontEmulator) -> None:
    """CallerReference before Paths and Items before Quantity still parse."""
    dist = emulator.create_distribution()
    body = (
        "<InvalidationBatch><CallerReference>swapped</CallerReference><Paths><Items>"
        "<Path>/x&amp;y</Path><Path>/z</Path></Items><Quantity>2</Quantity></Paths>"
        "</InvalidationBatch>"
    )
    status, _, _ = await signed_request(
        emulator, "POST", f"/2020-05-31/distribution/{dist}/invalidation", body.encode()
    )
    assert status == 201
    (inv,) = emulator.invalidations(dist)
    assert inv.batch.paths.items == ("/x&y", "/z")
    assert inv.batch.caller_reference == "swapped"


async def test_list_is_newest_first_and_paginates(
    fake_time_emulator: CloudFrontEmulator, fake_time_client: CloudFrontClient, clock: VirtualClock
) -> None:
    """MaxItems pages, Marker = last Id of the previous page, NextMarker only when truncated."""
    emu, cf = fake_time_emulator, fake_time_client
    dist = emu.create_distribution()
    ids = []
    for i in range(7):
        created = await cf.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch(f"/p{i}", ref=f"r{i}")
        )
        ids.append(created["Invalidation"]["Id"])
        clock.advance(1)
    newest_first = ids[::-1]

    first = (await cf.list_invalidations(DistributionId=dist, MaxItems="3"))["InvalidationList"]
    assert first["IsTruncated"] is True
    assert first["MaxItems"] == 3
    assert [i["Id"] for i in first["Items"]] == newest_first[:3]
    assert first["NextMarker"] == newest_first[2]

    second = (
        await cf.list_invalidations(DistributionId=dist, MaxItems="3", Marker=first["NextMarker"])
    )["InvalidationList"]
    assert second["Marker"] == newest_first[2]
    assert [i["Id"] for i in second["Items"]] == newest_first[3:6]

    last = (
        await cf.list_invalidations(DistributionId=dist, MaxItems="3", Marker=second["NextMarker"])
    )["InvalidationList"]
    assert [i["Id"] for i in last["Items"]] == newest_first[6:]
    assert last["IsTruncated"] is False
    assert "NextMarker" not in last

    paginator = cf.get_paginator("list_invalidations")
    seen = [
        item["Id"]
        async for page in paginator.paginate(DistributionId=dist, PaginationConfig={"PageSize": 2})
        for item in page["InvalidationList"].get("Items", [])
    ]
    assert newest_first == seen


async def test_list_of_a_distribution_without_invalidations(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """An empty list has Quantity 0 and no items."""
    dist = emulator.create_distribution()
    listed = (await client.list_invalidations(DistributionId=dist))["InvalidationList"]
    assert listed["Quantity"] == 0
    assert listed.get("Items", []) == []


async def test_distribution_tenant_operations(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """The three ...ForDistributionTenant operations work like the distribution ones."""
    tenant = emulator.create_distribution_tenant()
    assert tenant.startswith("dt_")
    created = await client.create_invalidation_for_distribution_tenant(
        Id=tenant, InvalidationBatch=batch("/t")
    )
    inv_id = created["Invalidation"]["Id"]
    assert f"/distribution-tenant/{tenant}/invalidation/{inv_id}" in created["Location"]
    got = await client.get_invalidation_for_distribution_tenant(
        DistributionTenantId=tenant, Id=inv_id
    )
    assert got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/t"]
    listed = await client.list_invalidations_for_distribution_tenant(Id=tenant)
    assert [inv_id] == [i["Id"] for i in listed["InvalidationList"]["Items"]]
    assert [inv_id] == [i.id for i in emulator.tenant_invalidations(tenant)]
    with pytest.raises(ClientError) as info:
        await client.get_invalidation_for_distribution_tenant(
            DistributionTenantId="dt_missing", Id=inv_id
        )
    assert error_of(info)[:2] == (404, "EntityNotFound")


# --- CloudFront's rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("create_unknown_distribution", (404, "NoSuchDistribution")),
        ("get_unknown_distribution", (404, "NoSuchDistribution")),
        ("list_unknown_distribution", (404, "NoSuchDistribution")),
        ("get_unknown_invalidation", (404, "NoSuchInvalidation")),
        ("create_unknown_tenant", (404, "EntityNotFound")),
        ("inconsistent_quantities", (400, "InconsistentQuantities")),
        ("unencoded_space", (400, "InvalidArgument")),
        ("no_leading_slash", (400, "InvalidArgument")),
        ("star_in_the_middle", (400, "InvalidArgument")),
        ("too_long", (400, "InvalidArgument")),
        ("too_many_files_in_one_batch", (413, "BatchTooLarge")),
        ("too_many_wildcards_in_one_batch", (413, "BatchTooLarge")),
        ("bad_max_items", (400, "InvalidArgument")),
    ],
)
async def test_errors_are_answered_as_cloudfront_does(
    client: CloudFrontClient, emulator: CloudFrontEmulator, call: str, expected: tuple[int, str]
) -> None:
    """Each rule of cloudfront.md gets its HTTP status and code, parsed by botocore."""
    dist = emulator.create_distribution()
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "create_unknown_distribution": lambda: client.create_invalidation(
            DistributionId="ENOSUCHDIST1234", InvalidationBatch=batch("/a")
        ),
        "get_unknown_distribution": lambda: client.get_invalidation(
            DistributionId="ENOSUCHDIST1234", Id="I123"
        ),
        "list_unknown_distribution": lambda: client.list_invalidations(
            DistributionId="ENOSUCHDIST1234"
        ),
        "get_unknown_invalidation": lambda: client.get_invalidation(
            DistributionId=dist, Id="INOSUCHINVAL12"
        ),
        "create_unknown_tenant": lambda: client.create_invalidation_for_distribution_tenant(
            Id="dt_nosuchtenant", InvalidationBatch=batch("/a")
        ),
        "inconsistent_quantities": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/a", "/b", quantity=1)
        ),
        "unencoded_space": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/a b")
        ),
        "no_leading_slash": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("index.html")
        ),
        "star_in_the_middle": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/a*/b")
        ),
        "too_long": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/" + "a" * 4000)
        ),
        "too_many_files_in_one_batch": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch(*(f"/f{i}" for i in range(3001)))
        ),
        "too_many_wildcards_in_one_batch": lambda: client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch(*(f"/w{i}/*" for i in range(16)))
        ),
        "bad_max_items": lambda: client.list_invalidations(DistributionId=dist, MaxItems="many"),
    }
    with pytest.raises(ClientError) as info:
        await calls[call]()
    status, code, _ = error_of(info)
    assert expected == (status, code)
    assert type(map_client_error(info.value)).__name__ == code
    assert emulator.invalidations(dist) == ()


async def test_inconsistent_quantities_message(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """The message is CloudFront's, word for word."""
    dist = emulator.create_distribution()
    with pytest.raises(ClientError) as info:
        await client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/a", "/b", quantity=1)
        )
    assert error_of(info)[2] == (
        "The specified quantity of Paths (1) does not match the actual quantity supplied (2)."
    )


async def test_missing_body(client: CloudFrontClient, emulator: CloudFrontEmulator) -> None:
    """A create without a body is 400 MalformedXML, as observed (not the modeled MissingBody)."""
    dist = emulator.create_distribution()

    def drop_body(request: Any, **_: Any) -> None:
        request.data = b""

    client.meta.events.register("before-sign.cloudfront.CreateInvalidation", drop_body)
    with pytest.raises(ClientError) as info:
        await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/a"))
    assert error_of(info) == (
        400,
        "MalformedXML",
        (
            "1 validation error detected: Value null at 'invalidationBatch' failed to satisfy "
            "constraint: Member must not be null"
        ),
    )
    mapped = map_client_error(info.value)
    assert isinstance(mapped, CloudFrontError)
    assert mapped.code == "MalformedXML"


async def test_in_progress_limits_are_enforced(
    fake_time_emulator: CloudFrontEmulator, fake_time_client: CloudFrontClient, clock: VirtualClock
) -> None:
    """3,000 files and, independently, 15 wildcards in progress; freed on completion."""
    emu, cf = fake_time_emulator, fake_time_client
    dist = emu.create_distribution()
    await cf.create_invalidation(
        DistributionId=dist, InvalidationBatch=batch(*(f"/f{i}" for i in range(2999)), ref="a")
    )
    await cf.create_invalidation(
        DistributionId=dist, InvalidationBatch=batch(*(f"/w{i}*" for i in range(15)), ref="b")
    )
    # One more file fits; a wildcard does not.
    await cf.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/last", ref="c"))
    for ref, path in (("d", "/one-too-many"), ("e", "/w*")):
        with pytest.raises(ClientError) as info:
            await cf.create_invalidation(
                DistributionId=dist, InvalidationBatch=batch(path, ref=ref)
            )
        status, code, message = error_of(info)
        assert (400, "TooManyInvalidationsInProgress") == (status, code)
        assert "exceed the maximum number of in-progress invalidations" in message
    clock.advance(60)
    await cf.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/w*", ref="e"))
    assert len(emu.invalidations(dist)) == 4


async def test_limits_are_configurable(clock: VirtualClock) -> None:
    """Smaller limits make small tests of the budget possible."""
    async with (
        CloudFrontEmulator(
            limits=Limits(files=2, wildcards=1), runtime=clock.runtime(), latency=5
        ) as emu,
        SESSION.create_client("cloudfront", config=client_config(), **emu.client_kwargs()) as cf,
    ):
        dist = emu.create_distribution()
        await cf.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/a", "/b"))
        with pytest.raises(ClientError) as info:
            await cf.create_invalidation(
                DistributionId=dist, InvalidationBatch=batch("/c", ref="2")
            )
        assert error_of(info)[1] == "TooManyInvalidationsInProgress"
        with pytest.raises(ClientError) as info:
            await cf.create_invalidation(
                DistributionId=dist, InvalidationBatch=batch("/a*", "/b*", ref="3")
            )
        assert error_of(info)[:2] == (413, "BatchTooLarge")


async def test_same_caller_reference_and_paths_returns_the_earlier_invalidation(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """A retried create is idempotent: the same Id comes back, nothing new is created."""
    dist = emulator.create_distribution()
    first = await client.create_invalidation(
        DistributionId=dist, InvalidationBatch=batch("/a", "/b")
    )
    again = await client.create_invalidation(
        DistributionId=dist, InvalidationBatch=batch("/b", "/a")
    )
    assert first["Invalidation"]["Id"] == again["Invalidation"]["Id"]
    assert len(emulator.invalidations(dist)) == 1
    assert [True, False] == [
        c.created for c in emulator.calls if c.operation == "CreateInvalidation"
    ]


async def test_reused_caller_reference_with_other_paths_observed(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """By default the conflict is answered as observed: 400 InvalidArgument."""
    dist = emulator.create_distribution()
    await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/a"))
    with pytest.raises(ClientError) as info:
        await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/other"))
    status, code, message = error_of(info)
    assert (400, "InvalidArgument") == (status, code)
    assert "caller reference that was used for a previous invalidation batch" in message
    assert isinstance(map_client_error(info.value), CallerReferenceConflict)


async def test_reused_caller_reference_with_other_paths_documented() -> None:
    """conflict_code='documented' answers InvalidationBatchAlreadyExists."""
    async with (
        CloudFrontEmulator(conflict_code="documented") as emu,
        SESSION.create_client("cloudfront", config=client_config(), **emu.client_kwargs()) as cf,
    ):
        dist = emu.create_distribution()
        await cf.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/a"))
        with pytest.raises(ClientError) as info:
            await cf.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/b"))
        assert error_of(info)[:2] == (409, "InvalidationBatchAlreadyExists")
        assert isinstance(map_client_error(info.value), CallerReferenceConflict)


async def test_create_rate_is_limited(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """A burst of five creates passes; the sixth is throttled with 'Rate exceeded'."""
    dist = emulator.create_distribution()
    for i in range(5):
        await client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/a", ref=str(i))
        )
    with pytest.raises(ClientError) as info:
        await client.create_invalidation(
            DistributionId=dist, InvalidationBatch=batch("/a", ref="6")
        )
    assert (400, "Throttling", "Rate exceeded") == error_of(info)
    assert len(emulator.invalidations(dist)) == 5
    # Reads have their own, generous buckets.
    await client.list_invalidations(DistributionId=dist)


async def test_rate_limit_can_be_switched_off() -> None:
    """rate_limits=None never throttles on its own."""
    async with (
        CloudFrontEmulator(rate_limits=None) as emu,
        SESSION.create_client("cloudfront", config=client_config(), **emu.client_kwargs()) as cf,
    ):
        dist = emu.create_distribution()
        for i in range(12):
            await cf.create_invalidation(
                DistributionId=dist, InvalidationBatch=batch("/a", ref=str(i))
            )
        assert len(emu.invalidations(dist)) == 12


# --- authentication ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "secret", "expected"),
    [
        ("testing", "wrong", "SignatureDoesNotMatch"),
        ("AKIAUNKNOWN", "testing", "InvalidClientTokenId"),
    ],
)
async def test_bad_credentials_are_refused(
    emulator: CloudFrontEmulator, key: str, secret: str, expected: str
) -> None:
    """A wrong secret or an unknown key gets the 403 code AWS uses."""
    dist = emulator.create_distribution()
    kwargs = {**emulator.client_kwargs(), "aws_access_key_id": key, "aws_secret_access_key": secret}
    async with SESSION.create_client("cloudfront", config=client_config(), **kwargs) as cf:
        with pytest.raises(ClientError) as info:
            await cf.list_invalidations(DistributionId=dist)
    assert (403, expected) == error_of(info)[:2]
    assert type(map_client_error(info.value)).__name__ == expected


async def test_requests_signed_for_another_region_are_refused(emulator: CloudFrontEmulator) -> None:
    """CloudFront is global: a signature scoped to another region does not verify."""
    dist = emulator.create_distribution()
    kwargs = {**emulator.client_kwargs(), "region_name": "eu-west-1"}
    async with SESSION.create_client("cloudfront", config=client_config(), **kwargs) as cf:
        with pytest.raises(ClientError) as info:
            await cf.list_invalidations(DistributionId=dist)
    status, code, message = error_of(info)
    assert (403, "SignatureDoesNotMatch") == (status, code)
    assert "eu-west-1" in message


async def test_unsigned_requests_are_refused(emulator: CloudFrontEmulator) -> None:
    """No signature at all is 403 MissingAuthenticationToken."""
    dist = emulator.create_distribution()
    config = client_config(signature_version=botocore.UNSIGNED)
    async with SESSION.create_client("cloudfront", config=config, **emulator.client_kwargs()) as cf:
        with pytest.raises(ClientError) as info:
            await cf.list_invalidations(DistributionId=dist)
    assert (403, "MissingAuthenticationToken") == error_of(info)[:2]


async def test_auth_can_be_switched_off() -> None:
    """credentials=None accepts unsigned requests."""
    async with CloudFrontEmulator(credentials=None) as emu:
        dist = emu.create_distribution()
        config = client_config(signature_version=botocore.UNSIGNED)
        async with SESSION.create_client("cloudfront", config=config, **emu.client_kwargs()) as cf:
            await cf.list_invalidations(DistributionId=dist)


async def test_unimplemented_operations_say_so(client: CloudFrontClient) -> None:
    """Calls outside invalidations are 501 NotImplemented, not a silent success."""
    with pytest.raises(ClientError) as info:
        await client.list_distributions()
    status, code, message = error_of(info)
    assert (501, "NotImplemented") == (status, code)
    assert "only invalidations" in message


# --- faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (FaultKind.THROTTLE, (400, "Throttling")),
        (FaultKind.INTERNAL_ERROR, (500, "InternalError")),
        (FaultKind.SERVICE_UNAVAILABLE, (503, "ServiceUnavailable")),
    ],
)
async def test_injected_error_faults(
    client: CloudFrontClient,
    emulator: CloudFrontEmulator,
    kind: FaultKind,
    expected: tuple[int, str],
) -> None:
    """Error faults answer without processing, for exactly `count` calls."""
    dist = emulator.create_distribution()
    emulator.inject(kind, operation="CreateInvalidation", count=2)
    for ref in ("a", "b"):
        with pytest.raises(ClientError) as info:
            await client.create_invalidation(
                DistributionId=dist, InvalidationBatch=batch("/x", ref=ref)
            )
        assert expected == error_of(info)[:2]
    assert emulator.invalidations(dist) == ()
    await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x", ref="c"))
    assert len(emulator.invalidations(dist)) == 1
    assert [kind, kind, None] == [c.fault for c in emulator.calls]


async def test_faults_only_hit_their_operation(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """A fault for GetInvalidation leaves other operations alone."""
    dist = emulator.create_distribution()
    emulator.inject(FaultKind.SERVICE_UNAVAILABLE, operation="GetInvalidation")
    created = await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    await client.list_invalidations(DistributionId=dist)
    with pytest.raises(ClientError):
        await client.get_invalidation(DistributionId=dist, Id=created["Invalidation"]["Id"])


async def test_reset_before_processing_creates_nothing(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """The connection drops before the server acts: no invalidation exists."""
    dist = emulator.create_distribution()
    emulator.inject(FaultKind.RESET_BEFORE, operation="CreateInvalidation")
    with pytest.raises(EndpointConnectionError):
        await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    assert emulator.invalidations(dist) == ()
    (call,) = emulator.calls
    assert (call.status, call.fault, call.created) == (None, FaultKind.RESET_BEFORE, False)


async def test_reset_after_processing_loses_only_the_reply(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """The invalidation is created but the reply is lost; a retry gets the same one."""
    dist = emulator.create_distribution()
    emulator.inject(FaultKind.RESET_AFTER, operation="CreateInvalidation")
    with pytest.raises(EndpointConnectionError):
        await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    (created,) = emulator.invalidations(dist)
    retried = await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    assert retried["Invalidation"]["Id"] == created.id
    assert len(emulator.invalidations(dist)) == 1


async def test_delayed_reply() -> None:
    """A delayed reply trips the client's read timeout after the server has acted."""
    # Real time: the client's read timeout is a real one.  Both timers run on
    # this one event loop, so the 0.2 s timeout always fires before the 0.6 s delay.
    async with CloudFrontEmulator(latency=0.05) as emulator:
        dist = emulator.create_distribution()
        emulator.inject(FaultKind.DELAY, operation="CreateInvalidation", delay=0.6)
        config = client_config(read_timeout=0.2)
        async with SESSION.create_client(
            "cloudfront", config=config, **emulator.client_kwargs()
        ) as cf:
            with pytest.raises(ReadTimeoutError):
                await cf.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
        assert len(emulator.invalidations(dist)) == 1


async def test_delay_passes_on_virtual_time(
    client: CloudFrontClient, emulator: CloudFrontEmulator, virtual: VirtualClock
) -> None:
    """On a virtual clock a DELAY fault takes virtual seconds, not real ones."""
    dist = emulator.create_distribution()
    emulator.inject(FaultKind.DELAY, operation="CreateInvalidation", delay=600)
    before = virtual.elapsed
    created = await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert virtual.elapsed - before == pytest.approx(600)


async def test_random_faults_are_reproducible(emulator: CloudFrontEmulator) -> None:
    """The same seed gives the same faults on the same calls."""
    dist = emulator.create_distribution()

    async def run(seed: int) -> list[FaultKind | None]:
        emulator.inject_random(
            0.5,
            seed=seed,
            kinds=[FaultKind.THROTTLE, FaultKind.SERVICE_UNAVAILABLE],
            operations=["ListInvalidations"],
        )
        start = len(emulator.calls)
        async with SESSION.create_client(
            "cloudfront", config=client_config(), **emulator.client_kwargs()
        ) as cf:
            for _ in range(12):
                with contextlib.suppress(ClientError):
                    await cf.list_invalidations(DistributionId=dist)
        return [c.fault for c in emulator.calls[start:]]

    first, second = await run(3), await run(3)
    assert first == second
    assert {FaultKind.THROTTLE, FaultKind.SERVICE_UNAVAILABLE, None} == set(first)


# --- introspection, threads, fixture, command line -------------------------------------


async def test_call_log_records_every_call(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """Each call is logged with operation, status, error code and what it created."""
    dist = emulator.create_distribution()
    created = await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    with pytest.raises(ClientError):
        await client.get_invalidation(DistributionId=dist, Id="IMISSING")
    create, get = emulator.calls
    assert (create.operation, create.status, create.created) == ("CreateInvalidation", 201, True)
    assert create.invalidation_id == created["Invalidation"]["Id"]
    assert create.request_id == created["ResponseMetadata"]["RequestId"]
    assert (get.operation, get.status, get.error_code) == (
        "GetInvalidation",
        404,
        "NoSuchInvalidation",
    )


async def test_other_writer_and_forced_completion(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """create_invalidation() plays another writer; complete() finishes it early."""
    dist = emulator.create_distribution()
    other = emulator.create_invalidation(dist, (f"/busy{i}" for i in range(3000)), latency=3600)
    with pytest.raises(ClientError) as info:
        await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))
    assert error_of(info)[1] == "TooManyInvalidationsInProgress"
    emulator.complete(other.id)
    got = await client.get_invalidation(DistributionId=dist, Id=other.id)
    assert got["Invalidation"]["Status"] == InvalidationStatus.COMPLETED.value
    await client.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/x"))


def test_background_thread_serves_synchronous_clients() -> None:
    """`with CloudFrontEmulator()` runs it in a thread for a synchronous botocore client."""
    with CloudFrontEmulator(latency=0) as emu:
        dist = emu.create_distribution("EDFDVBD6EXAMPLE")
        sync: Any = botocore.session.get_session().create_client(
            "cloudfront", **emu.client_kwargs()
        )
        try:
            created = sync.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/a"))
            assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
            got = sync.get_invalidation(DistributionId=dist, Id=created["Invalidation"]["Id"])
            assert got["Invalidation"]["Status"] == "Completed"
        finally:
            sync.close()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.endpoint_url


@pytest.mark.cloudfront_emulator(latency=0.5, conflict_code="documented")
def test_pytest_fixture_and_marker(cloudfront_emulator: CloudFrontEmulator) -> None:
    """The installed pytest plugin provides a running emulator, configured by the marker."""
    dist = cloudfront_emulator.create_distribution()
    env = cloudfront_emulator.environ()
    assert env["AWS_ENDPOINT_URL_CLOUDFRONT"] == cloudfront_emulator.endpoint_url
    sync: Any = botocore.session.get_session().create_client(
        "cloudfront", **cloudfront_emulator.client_kwargs()
    )
    try:
        sync.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/a"))
        with pytest.raises(ClientError) as info:
            sync.create_invalidation(DistributionId=dist, InvalidationBatch=batch("/b"))
    finally:
        sync.close()
    assert info.value.response["Error"]["Code"] == "InvalidationBatchAlreadyExists"


def test_standalone_command_serves_until_stopped() -> None:
    """`python -m cfinv.testing` prints its endpoint and distribution, then serves."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cfinv.testing",
            "--port",
            "0",
            "--distribution",
            "EDFDVBD6EXAMPLE",
            "--latency",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        endpoint = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert endpoint, first
        assert "EDFDVBD6EXAMPLE" in process.stdout.readline()
        sync: Any = botocore.session.get_session().create_client(
            "cloudfront",
            endpoint_url=endpoint.group(),
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        try:
            created = sync.create_invalidation(
                DistributionId="EDFDVBD6EXAMPLE", InvalidationBatch=batch("/a")
            )
        finally:
            sync.close()
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# --- helpers ---------------------------------------------------------------------------


async def signed_request(
    emulator: CloudFrontEmulator, method: str, path: str, body: bytes
) -> tuple[int, Any, str]:
    """Send a request signed with botocore's own SigV4 signer over plain aiohttp."""
    url = emulator.endpoint_url + path
    request = AWSRequest(method=method, url=url, data=body)
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    signer: Any = SigV4Auth(Credentials("testing", "testing"), "cloudfront", "us-east-1")
    signer.add_auth(request)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=dict(request.headers)) as response,
    ):
        return response.status, response.headers, await response.text()


async def test_emulator_repr_and_double_start(emulator: CloudFrontEmulator) -> None:
    """The repr shows where it listens; starting twice is a clear error."""
    assert emulator.endpoint_url in repr(emulator)
    with pytest.raises(RuntimeError, match="already running"):
        await emulator.start()


async def test_unknown_marker_is_invalid_argument(
    client: CloudFrontClient, emulator: CloudFrontEmulator
) -> None:
    """A Marker that names no invalidation is refused rather than ignored."""
    dist = emulator.create_distribution()
    with pytest.raises(ClientError) as info:
        await client.list_invalidations(DistributionId=dist, Marker="INOPE")
    assert error_of(info)[:2] == (400, "InvalidArgument")


async def test_concurrent_creates_never_exceed_the_budget(clock: VirtualClock) -> None:
    """Under concurrency the emulator admits exactly what fits in the budget."""
    async with (
        CloudFrontEmulator(
            limits=Limits(files=10), runtime=clock.runtime(), rate_limits=None
        ) as emu,
        SESSION.create_client("cloudfront", config=client_config(), **emu.client_kwargs()) as cf,
    ):
        dist = emu.create_distribution()

        async def create(i: int) -> str:
            try:
                await cf.create_invalidation(
                    DistributionId=dist,
                    InvalidationBatch=batch(*(f"/{i}/{j}" for j in range(3)), ref=str(i)),
                )
            except ClientError as exc:
                return str(exc.response["Error"]["Code"])
            return "ok"

        outcomes = await asyncio.gather(*(create(i) for i in range(8)))
    assert outcomes.count("ok") == 3
    assert outcomes.count("TooManyInvalidationsInProgress") == 5
