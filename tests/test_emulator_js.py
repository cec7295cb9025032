"""
The emulator against the AWS SDK for JavaScript v3, run by node from ``tests/js``.

One node process runs every scenario of ``tests/js/interop.mjs`` against one threaded
emulator (node and the SDK take half a second to start); each test below checks one
scenario's outcome.  Needs ``node`` and ``npm ci`` in ``tests/js`` (``.ci/run`` does it);
skipped with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from cfinv import Runtime
from cfinv.testing import CloudFrontEmulator, FaultKind

if TYPE_CHECKING:
    from collections.abc import Iterator

JS = Path(__file__).parent / "js"
PAGE_SIZE = 2
LISTED = 5  # invalidations on the listed distribution: three pages of two


def node() -> str:
    """The node executable, or skip when node or the SDK is not installed."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not installed: the JavaScript interop tests need node and npm")
    if not (JS / "node_modules" / "@aws-sdk" / "client-cloudfront").is_dir():
        pytest.skip("the AWS SDK for JavaScript is not installed: run `npm ci` in tests/js")
    return executable


@attrs.frozen
class Run:
    """What the scenarios were given, what they printed, and the emulator they ran against."""

    emulator: CloudFrontEmulator
    distribution: str
    listed: str
    full: str
    tenant: str
    waited_for: str
    out: dict[str, Any]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    """Every scenario in one node process; invalidations stay InProgress unless told."""
    executable = node()
    with CloudFrontEmulator(latency=600, rate_limits=None, runtime=Runtime.seeded(9)) as emu:
        distribution = emu.create_distribution()
        listed = emu.create_distribution()
        for n in range(LISTED):
            emu.create_invalidation(listed, [f"/listed/{n}"])
        full = emu.create_distribution()
        emu.create_invalidation(full, [f"/other-writer/{n}" for n in range(3000)])
        tenant = emu.create_distribution_tenant()
        waited_for = emu.create_invalidation(distribution, ["/waited/*"], latency=0.2).id
        # The next two CreateInvalidation calls: the throttling scenario's, so it runs first.
        emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation", count=2)
        done = subprocess.run(
            [
                executable,
                str(JS / "interop.mjs"),
                f"throttling={distribution}",
                f"create-and-get={distribution}",
                f"list-pages={listed}",
                f"waiter={distribution}/{waited_for}",
                f"tenant={tenant}",
                "no-such-distribution=ENOSUCHDIST123",
                f"too-many={full}",
                f"caller-reference={distribution}",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **emu.environ()},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield Run(emu, distribution, listed, full, tenant, waited_for, json.loads(done.stdout))


def operations(emu: CloudFrontEmulator, target: str) -> list[tuple[str, int | None, str | None]]:
    """(operation, status, error code) of each call on ``target``, oldest first."""
    return [(c.operation, c.status, c.error_code) for c in emu.calls if c.target_id == target]


def test_create_and_get(run: Run) -> None:
    """CreateInvalidation and GetInvalidation parse into the SDK's output, dates as Dates."""
    out = run.out["create-and-get"]
    created, got = out["created"], out["got"]
    inv_id = created["Invalidation"]["Id"]
    assert 201 == created["status"]
    expected_location = (
        f"{run.emulator.endpoint_url}/2020-05-31/distribution/{run.distribution}"
        f"/invalidation/{inv_id}"
    )
    assert expected_location == created["Location"]
    assert {
        "Id": inv_id,
        "Status": "InProgress",
        "CreateTimeIsDate": True,
        "Paths": ["/index.html", "/img/*"],
        "Quantity": 2,
        "CallerReference": "js-create-1",
    } == {k: v for k, v in got.items() if k != "CreateTime"}
    assert created["Invalidation"] == got
    [emulated] = [i for i in run.emulator.invalidations(run.distribution) if i.id == inv_id]
    # CloudFront sends milliseconds; the SDK's Date keeps them.
    assert emulated.create_time.isoformat(timespec="milliseconds") == got["CreateTime"].replace(
        "Z", "+00:00"
    )


def test_paginator_walks_every_page(run: Run) -> None:
    """The paginator follows NextMarker page by page, newest first, to the end."""
    pages = run.out["list-pages"]["pages"]
    newest_first = [i.id for i in reversed(run.emulator.invalidations(run.listed))]
    assert [newest_first[0:2], newest_first[2:4], newest_first[4:]] == [p["Ids"] for p in pages]
    assert ["", newest_first[1], newest_first[3]] == [p["Marker"] for p in pages]
    assert [newest_first[1], newest_first[3], None] == [p["NextMarker"] for p in pages]
    assert [True, True, False] == [p["IsTruncated"] for p in pages]
    assert [PAGE_SIZE] * 3 == [p["MaxItems"] for p in pages]
    assert [("ListInvalidations", 200, None)] * 3 == operations(run.emulator, run.listed)


def test_waiter_returns_when_completed(run: Run) -> None:
    """The waiter (waitUntilInvalidationCompleted) polls until the status is Completed."""
    assert {"state": "SUCCESS", "Status": "Completed"} == run.out["waiter"]
    polls = [c for c in run.emulator.calls if c.invalidation_id == run.waited_for]
    assert polls
    assert {("GetInvalidation", 200)} == {(c.operation, c.status) for c in polls}


def test_tenant_commands(run: Run) -> None:
    """The ...ForDistributionTenant commands create, get and list a tenant's invalidations."""
    out = run.out["tenant"]
    inv_id = out["created"]["Id"]
    assert out["Location"].endswith(
        f"/2020-05-31/distribution-tenant/{run.tenant}/invalidation/{inv_id}"
    )
    assert out["created"] == out["got"]
    assert ["/tenant/*"] == out["got"]["Paths"]
    assert [inv_id] == out["listed"]
    assert [
        ("CreateInvalidationForDistributionTenant", 201, None),
        ("GetInvalidationForDistributionTenant", 200, None),
        ("ListInvalidationsForDistributionTenant", 200, None),
    ] == operations(run.emulator, run.tenant)


def test_no_such_distribution_is_the_sdks_error_class(run: Run) -> None:
    """A missing distribution throws the SDK's NoSuchDistribution (404), not retried."""
    error = run.out["no-such-distribution"]["error"]
    assert {"name": "NoSuchDistribution", "status": 404, "attempts": 1, "modeled": True} == {
        k: error[k] for k in ("name", "status", "attempts", "modeled")
    }


def test_too_many_invalidations_in_progress(run: Run) -> None:
    """Another writer's 3,000 paths fill the budget: TooManyInvalidationsInProgress, no retry."""
    error = run.out["too-many"]["error"]
    assert {
        "name": "TooManyInvalidationsInProgress",
        "status": 400,
        "attempts": 1,
        "modeled": True,
    } == {k: error[k] for k in ("name", "status", "attempts", "modeled")}
    assert 1 == len(run.emulator.invalidations(run.full))


def test_reused_caller_reference(run: Run) -> None:
    """The same reference and paths replay the invalidation; other paths get InvalidArgument."""
    out = run.out["caller-reference"]
    assert out["first"] == out["replay"]
    assert {"name": "InvalidArgument", "status": 400, "attempts": 1, "modeled": True} == {
        k: out["conflict"]["error"][k] for k in ("name", "status", "attempts", "modeled")
    }
    assert "caller reference" in out["conflict"]["error"]["message"]


def test_throttling_is_retried_by_the_sdk(run: Run) -> None:
    """Two Throttling answers, then success: the SDK's standard retries, three attempts."""
    out = run.out["throttling"]
    assert (201, 3) == (out["status"], out["attempts"])
    creates = [
        (c.status, c.error_code, c.fault)
        for c in run.emulator.calls
        if c.operation == "CreateInvalidation"
    ]
    assert [
        (400, "Throttling", FaultKind.THROTTLE),
        (400, "Throttling", FaultKind.THROTTLE),
        (201, None, None),
    ] == creates[:3]
    retried = [
        i for i in run.emulator.invalidations(run.distribution) if i.id == out["Invalidation"]["Id"]
    ]
    assert ["/retried"] == [p for i in retried for p in i.batch.paths.items]


# --- the control API from JavaScript: the docs' example -------------------------------------


@contextlib.contextmanager
def serve(*args: str) -> Iterator[str]:
    """`cfinv serve` in a subprocess on a free port; yields its endpoint."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cfinv", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)  # a bound, not a pause
        first = proc.stdout.readline() if ready else ""  # printed once it listens
        found = re.search(r"http://\S+", first)
        assert found, first + (proc.stderr.read() if proc.stderr else "")
        yield found[0]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_control_api_example_passes() -> None:
    """tests/js/control-api.test.mjs, the docs' JavaScript example, passes with node --test."""
    executable = node()
    with serve("--latency", "0", "--no-rate-limit") as endpoint:
        try:
            with urllib.request.urlopen(f"{endpoint}/_cfinv/", timeout=30) as answer:  # noqa: S310 - our own server
                ready = answer.status == 200
        except urllib.error.HTTPError:
            ready = False
        if not ready:
            pytest.skip("this cfinv serve has no control API: GET /_cfinv/ does not answer 200")
        done = subprocess.run(
            [executable, "--test", "--test-reporter=tap", str(JS / "control-api.test.mjs")],
            capture_output=True,
            text=True,
            env={**os.environ, "CFINV_ENDPOINT": endpoint},
            cwd=JS,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^# pass 2$", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^# fail 0$", done.stdout, re.MULTILINE), done.stdout
