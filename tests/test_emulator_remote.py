"""
The emulator as a product: its control API, ``RemoteEmulator``, TLS, and its HTTP edges.

``cfinv serve`` runs in a subprocess; ``RemoteEmulator`` drives it over the
control API exactly as a test drives an in-process ``CloudFrontEmulator``,
and the same scenarios give the same calls and invalidations on both.
Clients are real (botocore's, the AWS CLI); nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError

from cfinv import Runtime
from cfinv.testing import ApiError, CloudFrontEmulator, FaultKind, RemoteEmulator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

Emulator = CloudFrontEmulator | RemoteEmulator


def _serve(*options: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`cfinv serve` on a free port; the process and its banner lines."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cfinv", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    banner = [process.stdout.readline()]
    while "press Ctrl-C to stop" not in banner[-1]:
        line = process.stdout.readline()
        assert line, f"cfinv serve ended: {process.communicate(timeout=10)}"
        banner.append(line)
    return process, banner


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err  # SIGTERM is a clean stop
    return err


@pytest.fixture(scope="module")
def served() -> Iterator[RemoteEmulator]:
    """One `cfinv serve` for the module: invalidations stay InProgress; reset per test."""
    process, banner = _serve("--latency", "600", "--seed", "5")
    url = banner[0].split("listening on ")[1].strip()
    try:
        yield RemoteEmulator(url)
    finally:
        _stop(process)


@pytest.fixture(params=["in-process", "remote"])
def emulator(request: pytest.FixtureRequest, served: RemoteEmulator) -> Iterator[Emulator]:
    """The same emulator, in this process (a thread) or in `cfinv serve`."""
    if request.param == "remote":
        served.reset()
        yield served
        return
    with CloudFrontEmulator(latency=600, runtime=Runtime.seeded(5)) as emu:
        yield emu


def _client(emu: Emulator, **config: Any) -> Any:
    return botocore.session.get_session().create_client(
        "cloudfront", config=Config(**config), **emu.client_kwargs()
    )


def _batch(*paths: str, ref: str) -> dict[str, Any]:
    return {"Paths": {"Quantity": len(paths), "Items": list(paths)}, "CallerReference": ref}


def _calls(emu: Emulator) -> list[tuple[Any, ...]]:
    """What a scenario observes of the calls: the same on both emulators."""
    return [
        (c.operation, c.status, c.error_code, c.fault, c.created, c.answered) for c in emu.calls
    ]


# --- the same scenarios, in-process and remote -------------------------------------------------


def _throttled_then_created(emu: Emulator) -> Any:
    dist = emu.create_distribution()
    emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation")
    client = _client(emu, retries={"mode": "standard", "max_attempts": 5})
    client.create_invalidation(DistributionId=dist, InvalidationBatch=_batch("/a", ref="t"))
    return _calls(emu)


def _lost_reply_then_replayed(emu: Emulator) -> Any:
    dist = emu.create_distribution()
    emu.inject(FaultKind.RESET_AFTER, operation="CreateInvalidation")
    client = _client(emu, retries={"mode": "standard", "max_attempts": 5})
    answer = client.create_invalidation(
        DistributionId=dist, InvalidationBatch=_batch("/a", ref="r")
    )
    (only,) = emu.invalidations(dist)
    assert answer["Invalidation"]["Id"] == only.id  # the retry got the lost one back
    return _calls(emu)


def _another_writer_fills_the_budget(emu: Emulator) -> Any:
    dist = emu.create_distribution()
    other = emu.create_invalidation(dist, [f"/o{n}" for n in range(3000)], caller_reference="o")
    client = _client(emu, retries={"mode": "standard", "max_attempts": 0})
    with pytest.raises(ClientError) as refused:
        client.create_invalidation(DistributionId=dist, InvalidationBatch=_batch("/a", ref="x"))
    emu.complete(other.id)
    client.create_invalidation(DistributionId=dist, InvalidationBatch=_batch("/a", ref="x"))
    states = [i.status_at(other.complete_time) for i in emu.invalidations(dist)]
    return refused.value.response["Error"]["Code"], [s.value for s in states], _calls(emu)


def _random_faults_repeat(emu: Emulator) -> Any:
    dist = emu.create_distribution()
    made = emu.create_invalidation(dist, ["/a"])
    emu.inject_random(
        0.5,
        seed=11,
        kinds=[FaultKind.THROTTLE, FaultKind.INTERNAL_ERROR],
        operations=["GetInvalidation"],
    )
    client = _client(emu, retries={"mode": "standard", "max_attempts": 0})
    for _ in range(12):
        with contextlib.suppress(ClientError):
            client.get_invalidation(DistributionId=dist, Id=made.id)
    emu.clear_faults()
    client.get_invalidation(DistributionId=dist, Id=made.id)
    return _calls(emu)


def _tenants(emu: Emulator) -> Any:
    tenant = emu.create_distribution_tenant("dt_shared")
    emu.create_invalidation(tenant, ["/t/*"], tenant=True, caller_reference="t1")
    client = _client(emu)
    listed = client.list_invalidations_for_distribution_tenant(Id=tenant)["InvalidationList"]
    with pytest.raises(ClientError) as missing:
        client.list_invalidations_for_distribution_tenant(Id="dt_nosuch")
    invalidations = emu.tenant_invalidations(tenant)
    return (
        listed["Quantity"],
        [i.batch.paths.items for i in invalidations],
        missing.value.response["Error"]["Code"],
        tenant in emu.distribution_tenants,
    )


SCENARIOS: dict[str, Callable[[Emulator], Any]] = {
    "throttled-then-created": _throttled_then_created,
    "lost-reply-then-replayed": _lost_reply_then_replayed,
    "another-writer-fills-the-budget": _another_writer_fills_the_budget,
    "random-faults-repeat": _random_faults_repeat,
    "tenants": _tenants,
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_same_scenario_gives_the_same_result_in_process_and_remote(
    served: RemoteEmulator, scenario: str
) -> None:
    """Faults, other writers, complete, tenants: the same calls and answers on both."""
    served.reset()
    remote = SCENARIOS[scenario](served)
    with CloudFrontEmulator(latency=600, runtime=Runtime.seeded(5)) as emu:
        local = SCENARIOS[scenario](emu)
    assert remote == local


def test_expected_results_of_the_scenarios(emulator: Emulator) -> None:
    """What the shared scenarios observe is what CloudFront would answer."""
    assert _throttled_then_created(emulator) == [
        ("CreateInvalidation", 400, "Throttling", FaultKind.THROTTLE, False, True),
        ("CreateInvalidation", 201, None, None, True, True),
    ]
    emulator.reset()
    code, states, calls = _another_writer_fills_the_budget(emulator)
    assert code == "TooManyInvalidationsInProgress"
    assert states == ["Completed", "InProgress"]
    assert [c[1] for c in calls] == [400, 201]


# --- every control operation through RemoteEmulator --------------------------------------------


def test_control_operations(served: RemoteEmulator) -> None:
    """Distributions, tenants, other writers, complete, faults, calls and reset, remotely."""
    served.reset()
    assert served.create_distribution("EREMOTE1") == "EREMOTE1"
    generated = served.create_distribution()
    assert generated.startswith("E")
    assert len(generated) == 14
    assert {"EREMOTE1", generated} <= set(served.distributions)
    tenant = served.create_distribution_tenant()
    assert tenant.startswith("dt_")
    assert tenant in served.distribution_tenants

    made = served.create_invalidation(
        "EREMOTE1", ["/a b", "/c/*"], caller_reference="ref-1", latency=1000
    )
    assert made.batch.paths.items == ("/a%20b", "/c/*")  # normalised, as in-process
    assert made.batch.caller_reference == "ref-1"
    assert (made.complete_time - made.create_time).total_seconds() == pytest.approx(1000)
    assert served.invalidations("EREMOTE1") == (made,)
    on_tenant = served.create_invalidation(tenant, ["/t"], tenant=True)
    assert served.tenant_invalidations(tenant) == (on_tenant,)

    served.complete(made.id)
    (done,) = served.invalidations("EREMOTE1")
    assert done.complete_time <= done.create_time + (made.complete_time - made.create_time)
    assert served.tenant_invalidations(tenant)[0].complete_time == on_tenant.complete_time
    served.complete()
    assert served.tenant_invalidations(tenant)[0].complete_time < on_tenant.complete_time

    served.inject(FaultKind.INTERNAL_ERROR, operation="GetInvalidation", count=1)
    client = _client(served, retries={"mode": "standard", "max_attempts": 0})
    with pytest.raises(ClientError):
        client.get_invalidation(DistributionId="EREMOTE1", Id=made.id)
    client.get_invalidation(DistributionId="EREMOTE1", Id=made.id)
    served.inject_random(1.0, kinds=[FaultKind.THROTTLE])
    with pytest.raises(ClientError):
        client.get_invalidation(DistributionId="EREMOTE1", Id=made.id)
    served.clear_faults()
    client.get_invalidation(DistributionId="EREMOTE1", Id=made.id)
    calls = served.calls
    assert [(c.status, c.error_code, c.fault) for c in calls] == [
        (500, "InternalError", FaultKind.INTERNAL_ERROR),
        (200, None, None),
        (400, "Throttling", FaultKind.THROTTLE),
        (200, None, None),
    ]
    assert all(c.answered and c.invalidation_id in {None, made.id} for c in calls)

    served.reset()
    assert served.calls == ()
    assert served.invalidations("EREMOTE1") == ()
    assert "EREMOTE1" in served.distributions  # distributions stay


def test_control_errors_are_api_errors(served: RemoteEmulator) -> None:
    """The in-process emulator's ApiError, with CloudFront's code where there is one."""
    with pytest.raises(ApiError) as missing:
        served.invalidations("ENOSUCH")
    assert (missing.value.status, missing.value.code) == (404, "NoSuchDistribution")
    with pytest.raises(ApiError) as unknown:
        served.complete("INOSUCH")
    assert (unknown.value.status, unknown.value.code) == (404, "NoSuchInvalidation")
    dist = served.create_distribution()
    with pytest.raises(ApiError) as bad_path:
        served.create_invalidation(dist, ["/a*b"])
    assert (bad_path.value.status, bad_path.value.code) == (400, "InvalidArgument")
    assert "'*' may only be the last character" in bad_path.value.message


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "faults", '{"Kind": "meteor"}', 400, "InvalidRequest"),
        ("POST", "faults", "not json", 400, "InvalidRequest"),
        ("POST", "faults", "[1, 2]", 400, "InvalidRequest"),
        ("POST", "invalidations", '{"Paths": ["/a"]}', 400, "InvalidRequest"),
        ("POST", "faults/random", '{"Rate": 2}', 400, "InvalidRequest"),
        ("GET", "faults", "", 405, "MethodNotAllowed"),
        ("GET", "nothing-here", "", 404, "NotFound"),
    ],
)
def test_bad_control_requests_get_json_errors(  # noqa: PLR0917 - parameters
    served: RemoteEmulator, method: str, path: str, body: str, status: int, code: str
) -> None:
    """Plain HTTP, as curl sends it: a status and {"Error": {"Code", "Message"}}."""
    request = urllib.request.Request(  # noqa: S310 - a local http URL
        f"{served.endpoint_url}/_cfinv/{path}", data=body.encode() or None, method=method
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    assert info.value.code == status
    answer = json.loads(info.value.read())
    assert answer["Error"]["Code"] == code
    assert answer["Error"]["Message"]


def test_control_requests_are_not_calls(served: RemoteEmulator) -> None:
    """The control API is neither signed, rate-limited nor logged among CloudFront's calls."""
    served.reset()
    for _ in range(30):
        served.distributions  # noqa: B018 - a control request
    assert served.calls == ()


def test_remote_emulator_refuses_a_url_that_is_not_http() -> None:
    """A typo in the URL is said at once."""
    with pytest.raises(ValueError, match=r"127\.0\.0\.1:5000"):
        RemoteEmulator("127.0.0.1:5000")


# --- TLS --------------------------------------------------------------------------------------


def test_tls_in_process(tmp_path: Path) -> None:
    """tls=True: https, verified by the CA bundle it made; refused without it."""
    with CloudFrontEmulator(tls=True, tls_dir=tmp_path, latency=0) as emu:
        assert emu.endpoint_url.startswith("https://127.0.0.1:")
        assert emu.ca_bundle == str(tmp_path / "ca.pem")
        dist = emu.create_distribution()
        client = _client(emu)
        client.create_invalidation(DistributionId=dist, InvalidationBatch=_batch("/a", ref="t"))
        kwargs = {k: v for k, v in emu.client_kwargs().items() if k != "verify"}
        untrusting: Any = botocore.session.get_session().create_client(
            "cloudfront", config=Config(retries={"max_attempts": 0}), **kwargs
        )
        with pytest.raises(SSLError):
            untrusting.list_invalidations(DistributionId=dist)
        env = {**os.environ, **emu.environ(), "AWS_PAGER": ""}
        assert env["AWS_CA_BUNDLE"] == env["NODE_EXTRA_CA_CERTS"] == emu.ca_bundle
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "awscli",
                "cloudfront",
                "list-invalidations",
                "--distribution-id",
                dist,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert len(json.loads(listed.stdout)["InvalidationList"]["Items"]) == 1


def test_cfinv_serve_tls_prints_the_bundle_to_trust(tmp_path: Path) -> None:
    """`cfinv serve --tls`: the banner names the CA bundle; RemoteEmulator and cfinv use it."""
    process, banner = _serve("--tls", "--tls-dir", str(tmp_path), "--latency", "0")
    try:
        url = banner[0].split("listening on ")[1].strip()
        assert url.startswith("https://")
        bundle = str(tmp_path / "ca.pem")
        assert any(f"trust the CA bundle {bundle}" in line for line in banner)
        remote = RemoteEmulator(url, ca_bundle=bundle)
        dist = remote.distributions[0]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cfinv",
                "invalidate",
                "--distribution-id",
                dist,
                "/a",
                "--progress",
                "none",
                "--endpoint-url",
                url,
                "--ca-bundle",
                bundle,
            ],
            env={**os.environ, **remote.environ()},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert [c.operation for c in remote.calls if c.created] == ["CreateInvalidation"]
    finally:
        _stop(process)


# --- the HTTP edges: bodies, slow clients, the call log -----------------------------------------


def _raw_request(url: str, head: bytes, *, body: bytes = b"") -> bytes:
    """Send a request as given; the answer, read until its XML error ends."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"</ErrorResponse>" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    return answer


def test_a_body_too_large_gets_an_xml_error_and_is_recorded() -> None:
    """Over the body limit: 413 RequestEntityTooLarge in CloudFront's XML, and a call record."""
    with CloudFrontEmulator(max_body_size=1024, credentials=None) as emu:
        dist = emu.create_distribution()
        body = b"<InvalidationBatch>" + b"x" * 4096 + b"</InvalidationBatch>"
        head = (
            f"POST /2020-05-31/distribution/{dist}/invalidation HTTP/1.1\r\n"
            f"Host: x\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        answer = _raw_request(emu.endpoint_url, head, body=body)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"<Code>RequestEntityTooLarge</Code>" in answer
        assert b"text/xml" in answer
        (call,) = emu.calls
        assert (call.operation, call.status, call.error_code) == (
            "CreateInvalidation",
            413,
            "RequestEntityTooLarge",
        )


def test_a_slow_body_gets_request_timeout() -> None:
    """A body that never finishes: 408 RequestTimeout after the request timeout, recorded."""
    with CloudFrontEmulator(request_timeout=0.5, credentials=None) as emu:
        dist = emu.create_distribution()
        head = (
            f"POST /2020-05-31/distribution/{dist}/invalidation HTTP/1.1\r\n"
            "Host: x\r\nContent-Length: 1000\r\n\r\n"
        ).encode()
        answer = _raw_request(emu.endpoint_url, head, body=b"<Invalidation")  # then nothing
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"<Code>RequestTimeout</Code>" in answer
        (call,) = emu.calls
        assert (call.status, call.error_code, call.answered) == (408, "RequestTimeout", True)


def test_slow_headers_are_cut_off() -> None:
    """Headers that never end, or a connection that says nothing: closed after the timeout."""
    with CloudFrontEmulator(request_timeout=0.5) as emu:
        host, port = emu.endpoint_url.removeprefix("http://").split(":")
        connections = [socket.create_connection((host, int(port)), timeout=30) for _ in range(20)]
        for n, sock in enumerate(connections):
            if n % 2:
                sock.sendall(b"GET /2020-05-31/distribution/E1/invalidation HTTP/1.1\r\nHost:")
        for sock in connections:
            with sock:
                assert sock.recv(65536) == b""  # closed by the emulator, nothing answered
        assert emu.calls == ()


def test_calls_are_recorded_as_they_arrive() -> None:
    """A call held by a DELAY fault is in the log at once, unanswered, before later calls."""
    gate = threading.Event()

    async def held(_seconds: float) -> None:  # the DELAY fault waits for the test
        await asyncio.get_running_loop().run_in_executor(None, gate.wait)

    runtime = Runtime(sleep=held)
    with CloudFrontEmulator(latency=600, runtime=runtime) as emu:
        dist = emu.create_distribution()
        made = emu.create_invalidation(dist, ["/a"])
        emu.inject(FaultKind.DELAY, operation="GetInvalidation")
        client = _client(emu, retries={"max_attempts": 0})
        slow = threading.Thread(
            target=client.get_invalidation, kwargs={"DistributionId": dist, "Id": made.id}
        )
        slow.start()
        deadline = time.monotonic() + 30
        while not emu.calls and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the request to arrive, bounded; not a timing
        client.list_invalidations(DistributionId=dist)
        calls = emu.calls
        assert len(calls) == 2, calls
        first, second = calls
        assert (first.operation, first.status, first.answered) == ("GetInvalidation", None, False)
        assert (second.operation, second.status, second.answered) == (
            "ListInvalidations",
            200,
            True,
        )
        gate.set()
        slow.join(timeout=30)
        first, second = emu.calls
        assert (first.operation, first.status, first.answered, first.fault) == (
            "GetInvalidation",
            200,
            True,
            FaultKind.DELAY,
        )
