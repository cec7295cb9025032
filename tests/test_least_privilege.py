"""Specs for least privilege: discovery off or denied, each permission missing, the IAM page."""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from cfinv import AccessDenied, Invalidator, InvalidClientTokenId
from cfinv.testing import CloudFrontEmulator, VirtualClock
from tests.cli_support import run
from tests.conftest import PLAIN_HTTP, SESSION, client_config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable


ROOT = Path(__file__).resolve().parent.parent
IAM_PAGE = ROOT / "docs" / "how-to" / "iam.md"
LATENCY = 60.0
READS = frozenset({"ListInvalidations", "GetInvalidation"})
ALL_OPERATIONS = frozenset(
    f"{verb}{suffix}"
    for verb in ("CreateInvalidation", "GetInvalidation", "ListInvalidations")
    for suffix in ("", "ForDistributionTenant")
)


def invalidator(emu: CloudFrontEmulator, target: str, **options: Any) -> Invalidator:
    """An Invalidator owning its client, pointed at the emulator, on the emulator's runtime."""
    defaults: dict[str, Any] = {
        "endpoint_url": emu.endpoint_url,
        "session": SESSION,
        "runtime": emu.runtime,
        "verify": PLAIN_HTTP,
    }
    return Invalidator(target, **{**defaults, **options})


def answered(emu: CloudFrontEmulator) -> collections.Counter[tuple[str, int | None]]:
    """(operation, HTTP status) of every call the emulator answered."""
    return collections.Counter((c.operation, c.status) for c in emu.calls)


def denial_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "cfinv" and r.levelno == logging.WARNING and "denied" in r.getMessage()
    ]


@pytest.fixture
def denied() -> set[str]:
    """The operations the `emu` fixture denies (a test sets it before asking for `emu`)."""
    return set()


@pytest.fixture
async def emu(virtual: VirtualClock, denied: set[str]) -> AsyncIterator[CloudFrontEmulator]:
    """An emulator on virtual time, a minute of latency, denying ``denied``."""
    async with CloudFrontEmulator(
        latency=LATENCY, runtime=virtual.runtime(seed=5), denied_operations=denied
    ) as emulator:
        yield emulator


def deny(*operations: str) -> pytest.MarkDecorator:
    """Run the test with the `emu` fixture denying ``operations``."""
    return pytest.mark.parametrize("denied", [set(operations)])


# --- the emulator's denied_operations ---------------------------------------------------


@deny("ListInvalidations", "GetInvalidationForDistributionTenant")
async def test_emulator_answers_a_denied_operation_403_access_denied(
    emu: CloudFrontEmulator,
) -> None:
    """A denied operation gets CloudFront's 403 AccessDenied XML; others are served as usual."""
    dist = emu.create_distribution()
    async with SESSION.create_client(
        "cloudfront", config=client_config(), verify=PLAIN_HTTP, **emu.client_kwargs()
    ) as cf:
        with pytest.raises(ClientError) as caught:
            await cf.list_invalidations(DistributionId=dist)
        created = await cf.create_invalidation(
            DistributionId=dist,
            InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/a"]}, "CallerReference": "r"},
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "cloudfront:ListInvalidations" in error["Error"]["Message"]
    assert created["Invalidation"]["Status"] == "InProgress"
    assert emu.denied_operations == {"ListInvalidations", "GetInvalidationForDistributionTenant"}
    assert answered(emu)[("ListInvalidations", 403)] == 1


def test_emulator_refuses_an_unknown_operation_to_deny() -> None:
    """A misspelt operation is an error, not a policy that silently allows everything."""
    with pytest.raises(ValueError, match="ListInvalidation'"):
        CloudFrontEmulator(denied_operations={"ListInvalidation"})


# --- discovery off --------------------------------------------------------------------------


@deny("ListInvalidations", "GetInvalidation")
async def test_discovery_off_with_no_wait_needs_only_create(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """discovery=False, wait=False: CreateInvalidation is the only call, and nothing is logged."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, ["/other"])  # another writer's, in progress
    caplog.set_level(logging.INFO, logger="cfinv")
    report = await invalidator(emu, dist, discovery=False).invalidate(["/a", "/b/*"], wait=False)
    assert [b.invalidation is not None for b in report.batches] == [True]
    assert answered(emu) == {("CreateInvalidation", 201): 1}
    assert report.api_calls == {"CreateInvalidation": 1}
    assert denial_warnings(caplog) == []


async def test_discovery_off_and_a_deploy_id_do_not_go_together() -> None:
    """A deploy id resumes by reading earlier runs' invalidations: refused without discovery."""
    with pytest.raises(ValueError, match="needs discovery"):
        Invalidator("EDFDVBD6EXAMPLE", deploy_id="run-1", discovery=False)


@deny("ListInvalidations", "GetInvalidation")
async def test_discovery_off_is_passed_through_invalidate_many(emu: CloudFrontEmulator) -> None:
    """invalidate_many(discovery=False) gives it to every Invalidator."""
    from cfinv import invalidate_many

    first, second = emu.create_distribution(), emu.create_distribution()
    reports = await invalidate_many(
        {first: ["/a"], second: ["/b"]},
        wait=False,
        discovery=False,
        endpoint_url=emu.endpoint_url,
        session=SESSION,
        verify=PLAIN_HTTP,
        runtime=emu.runtime,
    )
    assert sorted(reports) == sorted([first, second])
    assert answered(emu) == {("CreateInvalidation", 201): 2}


# --- discovery denied: one warning, then on without it --------------------------------------


@deny("ListInvalidations")
async def test_list_denied_degrades_with_one_warning_and_waits_with_get(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """
    No ListInvalidations: one warning, no second List, and waiting polls with GetInvalidation.

    Two calls on one Invalidator, with two invalidations in flight at once
    (which the poller would ask one List about), still log a single warning.
    """
    dist = emu.create_distribution()
    caplog.set_level(logging.INFO, logger="cfinv")
    async with invalidator(emu, dist) as inv:
        first, second = await asyncio.gather(inv.invalidate(["/a"]), inv.invalidate(["/b"]))
        third = await inv.invalidate(["/c"])
    assert first.completed
    assert second.completed
    assert third.completed
    (warning,) = denial_warnings(caplog)
    assert "ListInvalidations was denied" in warning
    assert "discovery=False" in warning
    calls = answered(emu)
    assert calls[("ListInvalidations", 403)] == 1
    assert calls[("ListInvalidations", 200)] == 0
    assert calls[("CreateInvalidation", 201)] == 3
    assert calls[("GetInvalidation", 200)] >= 3


@deny("GetInvalidation")
async def test_get_denied_during_discovery_degrades_and_no_wait_succeeds(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """List allowed, Get denied: reading another writer's paths fails: one warning, then send."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, ["/other"])
    report = await invalidator(emu, dist).invalidate(["/a"], wait=False)
    assert report.batches[0].invalidation is not None
    (warning,) = denial_warnings(caplog)
    assert "GetInvalidation was denied" in warning
    assert answered(emu)[("GetInvalidation", 403)] == 1


@deny("ListInvalidations", "GetInvalidation")
async def test_deploy_id_with_reads_denied_sends_everything_with_one_warning(
    emu: CloudFrontEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A deploy id's survey is denied: the warning says earlier runs are not known; all is sent."""
    dist = emu.create_distribution()
    report = await invalidator(emu, dist, deploy_id="build-7").invalidate(["/a", "/b"], wait=False)
    assert report.batches[0].invalidation is not None
    (warning,) = denial_warnings(caplog)
    assert "earlier runs of deploy build-7" in warning


@pytest.mark.parametrize("discovery", [False, True], ids=["discovery-off", "discovery-denied"])
@deny("ListInvalidations", "GetInvalidation")
async def test_too_many_in_progress_still_waits_without_discovery(
    emu: CloudFrontEmulator, virtual: VirtualClock, *, discovery: bool
) -> None:
    """
    Another writer fills the budget unseen: the create is refused, cfinv backs off and retries.

    It is accepted once the other writer's invalidation completed, never before.
    """
    dist = emu.create_distribution()
    other = emu.create_invalidation(dist, [f"/other/{i}" for i in range(3000)])
    report = await invalidator(emu, dist, discovery=discovery).invalidate(["/a"], wait=False)
    (batch,) = report.batches
    assert batch.invalidation is not None
    refused = answered(emu)
    assert refused[("CreateInvalidation", 400)] >= 1
    assert refused[("CreateInvalidation", 201)] == 1
    assert (batch.invalidation.create_time - other.create_time).total_seconds() >= LATENCY
    assert virtual.elapsed >= LATENCY


@deny("ListInvalidations", "GetInvalidation")
async def test_a_deploy_over_the_budget_goes_through_without_any_read(
    emu: CloudFrontEmulator,
) -> None:
    """
    Discovery off, reads denied, 16 wildcards: 15 go out, the 16th after CloudFront's refusals.

    cfinv counts its own first batch against the budget, so the 16th waits;
    polling is denied, so it cannot see the 15 complete: it lets the budget
    go, and CloudFront's TooManyInvalidationsInProgress paces the rest.
    """
    dist = emu.create_distribution()
    paths = [f"/w{i}/*" for i in range(16)]
    report = await invalidator(emu, dist, discovery=False).invalidate(paths, wait=False)
    sizes = [len(b.paths.items) for b in report.batches if b.invalidation is not None]
    assert sizes == [15, 1]
    creates = [c.status for c in emu.calls if c.operation == "CreateInvalidation"]
    assert creates[0] == 201
    assert creates[-1] == 201
    assert 400 in creates
    first, second = emu.invalidations(dist)
    assert (second.create_time - first.create_time).total_seconds() >= LATENCY


# --- each permission missing ------------------------------------------------------------------


@deny("CreateInvalidation")
async def test_create_denied_fails_at_once_with_nothing_created(emu: CloudFrontEmulator) -> None:
    """Without CreateInvalidation nothing can work: AccessDenied, its hint naming the actions."""
    dist = emu.create_distribution()
    with pytest.raises(AccessDenied, match="cloudfront:CreateInvalidation") as caught:
        await invalidator(emu, dist).invalidate(["/a"])
    assert caught.value.report is not None
    assert caught.value.report.invalidations == ()
    assert answered(emu)[("CreateInvalidation", 403)] == 1


@deny("GetInvalidation")
async def test_waiting_without_get_fails_with_the_report(emu: CloudFrontEmulator) -> None:
    """Create allowed, Get denied, wait=True: AccessDenied; the report lists what was created."""
    dist = emu.create_distribution()
    with pytest.raises(AccessDenied) as caught:
        await invalidator(emu, dist, discovery=False).invalidate(["/a"])
    report = caught.value.report
    assert report is not None
    assert len(report.invalidations) == 1
    assert [i.id for i in emu.invalidations(dist)] == [report.invalidations[0].id]


async def test_bad_credentials_are_not_taken_for_a_denied_discovery(
    virtual: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown access key fails the call at the first read, without a degradation warning."""
    async with CloudFrontEmulator(
        latency=LATENCY, runtime=virtual.runtime(seed=5), credentials={"someone": "else"}
    ) as emu:
        dist = emu.create_distribution()
        with pytest.raises(InvalidClientTokenId):
            await invalidator(emu, dist).invalidate(["/a"])
    assert denial_warnings(caplog) == []


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def thread_emu() -> Iterable[CloudFrontEmulator]:
    """A threaded emulator denying every read, completing invalidations at once."""
    with CloudFrontEmulator(latency=0, rate_limits=None, denied_operations=READS) as emulator:
        yield emulator


def test_cli_no_discovery_with_no_wait_calls_only_create(
    capsys: pytest.CaptureFixture[str], thread_emu: CloudFrontEmulator
) -> None:
    """`cfinv invalidate --no-discovery --no-wait` works with CreateInvalidation alone."""
    dist = thread_emu.create_distribution()
    code, _, err = run(
        capsys,
        "invalidate",
        "--distribution-id",
        dist,
        "/a",
        "--no-wait",
        "--no-discovery",
        "--progress",
        "none",
        emu=thread_emu,
    )
    assert code == 0, err
    assert {c.operation for c in thread_emu.calls} == {"CreateInvalidation"}


def test_cli_no_discovery_refuses_a_deploy_id(
    capsys: pytest.CaptureFixture[str], thread_emu: CloudFrontEmulator
) -> None:
    """--deploy-id needs discovery: a usage error, and no call."""
    code, _, err = run(
        capsys,
        "invalidate",
        "--distribution-id",
        "EDFDVBD6EXAMPLE",
        "/a",
        "--no-discovery",
        "--deploy-id",
        "run-1",
        emu=thread_emu,
    )
    assert code != 0
    assert "--deploy-id needs discovery" in err
    assert thread_emu.calls == ()


# --- the IAM page: every policy is enough for its way of using cfinv ---------------------------


def policies() -> dict[str, dict[str, Any]]:
    """Section heading -> the JSON policy under it, from docs/how-to/iam.md."""
    text = IAM_PAGE.read_text()
    found: dict[str, dict[str, Any]] = {}
    for match in re.finditer(
        r"^## (?P<title>.+?)\n(?P<body>.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL
    ):
        block = re.search(r"```json\n(.*?)```", match["body"], re.DOTALL)
        if block:
            found[match["title"].strip()] = json.loads(block[1])
    return found


def allowed_operations(policy: dict[str, Any]) -> set[str]:
    """The CloudFront operations a policy's Allow statements grant."""
    assert policy["Version"] == "2012-10-17"
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    assert all(a.startswith("cloudfront:") for a in actions), actions
    return {a.removeprefix("cloudfront:") for a in actions}


def test_the_iam_page_names_real_operations_only() -> None:
    """Every action on the page is an operation in botocore's CloudFront model."""
    import botocore.session

    service = botocore.session.get_session().get_service_model("cloudfront")
    found = {op for policy in policies().values() for op in allowed_operations(policy)}
    assert found <= set(service.operation_names)
    assert found == ALL_OPERATIONS


USES: dict[str, dict[str, Any]] = {
    "Create only": {"discovery": False, "wait": False},
    "Create and wait": {"discovery": False, "wait": True},
    "With discovery": {"discovery": True, "wait": True, "deploy_id": "build-1"},
    "Distribution tenants": {"discovery": True, "wait": True, "tenant": True},
}


def test_the_iam_page_has_a_policy_for_each_use() -> None:
    """The sections the test below runs are the sections of the page."""
    assert sorted(policies()) == sorted(USES)


@pytest.mark.parametrize("title", sorted(USES))
async def test_each_policy_on_the_iam_page_is_enough(
    title: str, virtual: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """
    Each way of using cfinv succeeds against an emulator denying what its policy does not allow.

    Another writer has an invalidation in progress and the deploy needs two
    batches (16 wildcards), so discovery, waiting for capacity and polling
    two invalidations at once are all exercised; and no denial is logged.
    """
    use = dict(USES[title])
    allowed = allowed_operations(policies()[title])
    tenant = use.pop("tenant", False)
    async with CloudFrontEmulator(
        latency=LATENCY,
        runtime=virtual.runtime(seed=11),
        denied_operations=ALL_OPERATIONS - allowed,
    ) as emu:
        target = emu.create_distribution_tenant() if tenant else emu.create_distribution()
        emu.create_invalidation(target, ["/other/*"], tenant=tenant)
        wait = use.pop("wait")
        paths = [f"/w{i}/*" for i in range(16)] if wait else ["/a", "/b/*"]
        report = await invalidator(emu, target, tenant=tenant, **use).invalidate(paths, wait=wait)
        denials = [c for c in emu.calls if c.status == 403]
    assert report.invalidations
    assert all(b.invalidation is not None for b in report.batches)
    assert report.completed == wait
    assert denials == []
    assert denial_warnings(caplog) == []
