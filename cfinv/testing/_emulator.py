"""
``CloudFrontEmulator``: a local CloudFront invalidation API over real HTTP.

An aiohttp server speaking CloudFront's REST-XML on ``127.0.0.1``.  It keeps
invalidations ``InProgress`` for a configurable latency, enforces CloudFront's
limits, caller-reference rules and create rate, checks SigV4 signatures, and
injects faults on request, so a client can be shown to survive real
CloudFront.  Use it as ``async with`` on the running event loop, or as a plain
``with`` to run it in a background thread for synchronous callers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import socket
import struct
import tempfile
import threading
import uuid
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import attrs
from aiohttp import web

from cfinv.models import Limits
from cfinv.paths import normalize_path
from cfinv.policies import to_seconds
from cfinv.runtime import Runtime, utcnow
from cfinv.testing import _sigv4, _wire
from cfinv.testing._backend import (
    ApiError,
    Backend,
    CallRecord,
    EmulatedInvalidation,
    FaultKind,
    RateLimit,
    TargetKind,
)
from cfinv.testing._control import PREFIX as CONTROL_PREFIX
from cfinv.testing._control import client_environ, client_settings, handle_control

if TYPE_CHECKING:
    import datetime as dt
    import os
    import ssl
    from collections.abc import Callable, Iterable, Mapping
    from types import TracebackType

    from cfinv.testing._tls import TlsFiles

__all__ = ["DEFAULT_RATE_LIMITS", "CloudFrontEmulator"]

log = logging.getLogger("cfinv.testing")

#: CreateInvalidation: about one call every two seconds per account, bursts of
#: five (cloudfront.md); reads are generous.
DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {
        "CreateInvalidation": RateLimit(0.5, 5),
        "CreateInvalidationForDistributionTenant": RateLimit(0.5, 5),
        "GetInvalidation": RateLimit(50.0, 100),
        "GetInvalidationForDistributionTenant": RateLimit(50.0, 100),
        "ListInvalidations": RateLimit(20.0, 40),
        "ListInvalidationsForDistributionTenant": RateLimit(20.0, 40),
    }
)
_DEFAULT_CREDENTIALS: Mapping[str, str] = MappingProxyType({"testing": "testing"})

_ROUTE = re.compile(
    r"/2020-05-31/(?P<kind>distribution|distribution-tenant)/(?P<target>[^/]+)"
    r"/invalidation(?:/(?P<invalidation>[^/]+))?/?"
)
_SERVICE_UNAVAILABLE = "CloudFront encountered an internal error. Please try again."


@attrs.define
class _FaultRule:
    kind: FaultKind
    operation: str | None
    remaining: int
    delay: float


@attrs.define
class _RandomFaults:
    rate: float
    kinds: tuple[FaultKind, ...]
    operations: frozenset[str] | None
    delay: float
    rng: random.Random


def _operation(kind: str, invalidation: str | None, method: str) -> str | None:
    if invalidation is None:
        base = {"POST": "CreateInvalidation", "GET": "ListInvalidations"}.get(method)
    else:
        base = "GetInvalidation" if method == "GET" else None
    if base is None:
        return None
    return base + ("ForDistributionTenant" if kind == "distribution-tenant" else "")


def _latency_function(latency: float | dt.timedelta | Callable[[], float]) -> Callable[[], float]:
    if callable(latency):
        return latency
    fixed = to_seconds(latency)
    return lambda: fixed


def _reset_connection(request: web.Request) -> None:
    """Drop the connection with a TCP reset, as a failing load balancer would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout makes close() send RST, not FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class CloudFrontEmulator:
    """
    A local, wire-accurate CloudFront invalidation API for tests and demos.

    Implements CreateInvalidation, GetInvalidation, ListInvalidations and their
    ``...ForDistributionTenant`` variants over real HTTP, with CloudFront's
    limits, caller-reference rules, create rate, SigV4 checks and injectable
    faults.

    >>> with CloudFrontEmulator(latency=0.05) as emu:  # a background thread
    ...     distribution_id = emu.create_distribution()
    ...     emu.endpoint_url.startswith("http://127.0.0.1:")
    True

    Args:
        host: The address to listen on.
        port: The port; 0 picks a free one (see `endpoint_url`).
        latency: Seconds an invalidation stays ``InProgress``: a number, a
            ``timedelta``, or a callable returning seconds for each new
            invalidation (e.g. a seeded ``random.uniform``).
        limits: In-progress and per-batch limits (CloudFront's by default).
        rate_limits: Operation name -> `RateLimit`; over it the call
            gets 400 ``Throttling`` "Rate exceeded".  ``None`` switches rate
            limiting off.
        conflict_code: How a caller reference reused with other paths is
            answered: ``"observed"`` (400 ``InvalidArgument``, what CloudFront
            is seen to do) or ``"documented"`` (409
            ``InvalidationBatchAlreadyExists``).
        replay_identical: Whether the same caller reference with the same
            paths returns the earlier invalidation, as documented (``True``),
            or gets the conflict answer too (``False``), as some users report.
        limits_first: Check the in-progress limits before the caller
            reference.  CloudFront does not say which it checks first; with
            ``True``, the retry of a create whose reply was lost is refused
            with ``TooManyInvalidationsInProgress`` when that invalidation
            filled the budget, instead of returning it.
        credentials: Access key id -> secret key accepted in SigV4
            signatures; ``None`` switches authentication off.
        distributions: Distribution ids to create at start.
        tls: Serve HTTPS with a certificate made at start, signed by a CA of
            its own whose file is `ca_bundle` (needs ``cryptography``, the
            ``tls`` extra).
        tls_dir: Where to write the CA bundle, certificate and key (default:
            a temporary directory, removed on stop).
        request_timeout: Seconds a connection may take to send a whole
            request (headers and body), and may stay idle between requests;
            slower ones get 408 ``RequestTimeout`` or are closed.
        max_body_size: The largest request body read, in bytes; a larger one
            gets 413 ``RequestEntityTooLarge``.
        runtime: Clocks, sleep and randomness (`cfinv.runtime.Runtime`): the
            wall clock gives creation and completion times, the monotonic
            clock the rate limits, ``sleep`` the ``DELAY`` fault, the random
            source the generated ids.  Pass ``VirtualClock().runtime()`` to
            run on virtual time, or ``Runtime.seeded(7)`` for the same ids on
            every run.  Signatures are checked against the real clock, since
            clients sign with it.
        denied_operations: Operations the credentials may not call, as an
            IAM policy without that action would have it (e.g.
            ``{"ListInvalidations", "GetInvalidation"}``): each such call is
            answered 403 ``AccessDenied`` after its signature is checked and
            before faults and rate limits, as CloudFront answers it.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float | dt.timedelta | Callable[[], float] = 1.0,
        limits: Limits = Limits(),  # noqa: B008 - frozen, so a shared default is safe
        rate_limits: Mapping[str, RateLimit] | None = DEFAULT_RATE_LIMITS,
        conflict_code: Literal["observed", "documented"] = "observed",
        replay_identical: bool = True,
        limits_first: bool = False,
        credentials: Mapping[str, str] | None = _DEFAULT_CREDENTIALS,
        distributions: Iterable[str] = (),
        tls: bool = False,
        tls_dir: str | os.PathLike[str] | None = None,
        request_timeout: float = 20.0,
        max_body_size: int = 8 * 2**20,
        runtime: Runtime | None = None,
        denied_operations: Iterable[str] = (),
    ) -> None:
        if conflict_code not in {"observed", "documented"}:
            msg = f"conflict_code must be 'observed' or 'documented', got {conflict_code!r}"
            raise ValueError(msg)
        self._host = host
        self._port = port
        self._credentials = dict(credentials) if credentials is not None else None
        self._runtime = runtime if runtime is not None else Runtime()
        self._backend = Backend(
            limits=limits,
            latency=_latency_function(latency),
            conflict_code=conflict_code,
            replay_identical=replay_identical,
            limits_first=limits_first,
            rate_limits=dict(rate_limits or {}),
            runtime=self._runtime,
        )
        for distribution_id in distributions:
            self._backend.add_target(TargetKind.DISTRIBUTION, distribution_id)
        self._faults: list[_FaultRule] = []
        self._random_faults: _RandomFaults | None = None
        self._fault_lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._endpoint_url: str | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._tls = tls
        self._tls_dir = Path(tls_dir) if tls_dir is not None else None
        self._tls_files: TlsFiles | None = None
        self._tls_temporary: tempfile.TemporaryDirectory[str] | None = None
        self._request_timeout = request_timeout
        self._max_body_size = max_body_size
        self._control = handle_control(self)
        self._denied = frozenset(denied_operations)
        unknown = sorted(self._denied - set(DEFAULT_RATE_LIMITS))
        if unknown:
            msg = (
                f"denied_operations: unknown operation(s) {unknown}; the emulator serves "
                f"{sorted(DEFAULT_RATE_LIMITS)}"
            )
            raise ValueError(msg)

    def __repr__(self) -> str:
        state = self._endpoint_url or "stopped"
        return f"<CloudFrontEmulator {state}>"

    # --- lifecycle -------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The URL to pass as ``endpoint_url`` to a client, e.g. ``http://127.0.0.1:49152``."""
        if self._endpoint_url is None:
            msg = "the emulator is not running: use `async with` or `with` first"
            raise RuntimeError(msg)
        return self._endpoint_url

    @property
    def runtime(self) -> Runtime:
        """The clocks, sleep and random source the emulator runs on."""
        return self._runtime

    @property
    def limits(self) -> Limits:
        """The limits the emulator enforces."""
        return self._backend.limits

    @property
    def ca_bundle(self) -> str | None:
        """With ``tls=True``: the CA certificate file clients trust (``AWS_CA_BUNDLE``)."""
        return str(self._tls_files.ca_bundle) if self._tls_files is not None else None

    def _server_tls(self) -> ssl.SSLContext | None:
        if not self._tls:
            return None
        from cfinv.testing._tls import make_tls_files  # imports cryptography when called

        directory = self._tls_dir
        if directory is None:
            self._tls_temporary = tempfile.TemporaryDirectory(prefix="cfinv-emulator-tls-")
            directory = Path(self._tls_temporary.name)
        try:
            self._tls_files = make_tls_files(directory, [self._host])
        except ImportError:
            msg = "tls=True needs the cryptography package: pip install 'cfinv[tls]'"
            raise RuntimeError(msg) from None
        return self._tls_files.server_context()

    async def start(self) -> None:
        """Start serving on the running event loop."""
        if self._runner is not None:
            msg = "the emulator is already running"
            raise RuntimeError(msg)
        app = web.Application(client_max_size=self._max_body_size)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            # An idle connection, or one sending its headers slowly, is closed after this;
            # the unread rest of a refused body is drained for 2 s at most.
            keepalive_timeout=self._request_timeout,
            lingering_time=min(2.0, self._request_timeout),
        )
        await runner.setup()
        context = self._server_tls()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True, ssl_context=context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            self._forget_tls()
            raise
        host, port = runner.addresses[0][:2]
        self._runner = runner
        host = f"[{host}]" if ":" in host else host
        self._endpoint_url = f"{'https' if context else 'http'}://{host}:{port}"
        log.info("CloudFront emulator listening on %s", self._endpoint_url)

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        runner, self._runner = self._runner, None
        self._endpoint_url = None
        if runner is not None:
            if runner.server is not None:
                for connection in runner.server.connections:
                    # Drop it at once, TLS too (no close_notify to wait for): a client
                    # still connected, or a connection draining a refused body.
                    if connection.transport is not None:
                        connection.transport.abort()
                    connection.force_close()
            await runner.cleanup()
        self._forget_tls()

    def _forget_tls(self) -> None:
        temporary, self._tls_temporary = self._tls_temporary, None
        if temporary is not None:
            temporary.cleanup()
            self._tls_files = None

    async def __aenter__(self) -> CloudFrontEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def start_in_thread(self) -> None:
        """Start serving from a background thread with its own event loop."""
        if self._thread is not None:
            msg = "the emulator is already running in a thread"
            raise RuntimeError(msg)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                # A connection still draining a refused body: end it with the loop.
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="cfinv-cloudfront-emulator", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._thread, self._thread_loop = thread, loop

    def stop_thread(self) -> None:
        """Stop a server started with `start_in_thread`."""
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._thread = self._thread_loop = None

    def __enter__(self) -> CloudFrontEmulator:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_thread()

    # --- set-up ----------------------------------------------------------------

    def create_distribution(self, distribution_id: str | None = None) -> str:
        """
        Create a distribution and return its id.

        Args:
            distribution_id: The id to use (e.g. ``EDFDVBD6EXAMPLE``); by
                default a new one in CloudFront's format (``E`` + 13
                upper-case letters and digits).
        """
        return self._backend.add_target(TargetKind.DISTRIBUTION, distribution_id)

    def create_distribution_tenant(self, tenant_id: str | None = None) -> str:
        """
        Create a distribution tenant and return its id.

        Args:
            tenant_id: The id to use; by default a new one of the form ``dt_...``.
        """
        return self._backend.add_target(TargetKind.TENANT, tenant_id)

    def create_invalidation(
        self,
        distribution_id: str,
        paths: Iterable[str],
        *,
        caller_reference: str | None = None,
        tenant: bool = False,
        latency: float | dt.timedelta | None = None,
    ) -> EmulatedInvalidation:
        """
        Create an invalidation directly, as another writer would (no HTTP, no rate limit).

        Paths are normalised first.  The in-progress limits still apply.

        Args:
            distribution_id: The distribution (or tenant, with ``tenant=True``).
            paths: The paths to invalidate.
            caller_reference: Defaults to a fresh unique one.
            tenant: ``distribution_id`` names a distribution tenant.
            latency: Seconds until it completes, instead of the configured latency.

        Raises:
            ApiError: A CloudFront rule refuses it (e.g. the budget is full).
        """
        items = tuple(normalize_path(p, limits=self.limits) for p in paths)
        request = _wire.BatchRequest(
            quantity=len(items),
            items=items,
            caller_reference=caller_reference or f"other-writer-{self._new_uuid().hex}",
        )
        kind = TargetKind.TENANT if tenant else TargetKind.DISTRIBUTION
        seconds = None if latency is None else to_seconds(latency)
        invalidation, _ = self._backend.create(kind, distribution_id, request, latency=seconds)
        return invalidation

    def inject(
        self,
        kind: FaultKind,
        *,
        operation: str | None = None,
        count: int = 1,
        delay: float | dt.timedelta = 1.0,
    ) -> None:
        """
        Make the next ``count`` matching calls fail with ``kind``.

        Rules apply in the order they were injected.

        Args:
            kind: The fault.
            operation: Only calls of this operation (e.g. ``"CreateInvalidation"``);
                ``None`` matches every call.
            count: How many calls to affect.
            delay: For `FaultKind.DELAY`, the seconds to hold the reply.
        """
        if count < 1:
            msg = f"count must be >= 1, got {count}"
            raise ValueError(msg)
        with self._fault_lock:
            self._faults.append(_FaultRule(kind, operation, count, to_seconds(delay)))

    def inject_random(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: Iterable[FaultKind] = tuple(FaultKind),
        operations: Iterable[str] | None = None,
        delay: float | dt.timedelta = 0.2,
    ) -> None:
        """
        Fail a random share of calls, reproducibly, for soak tests.

        Args:
            rate: The probability (0-1) that a matching call gets a fault.
            seed: Seeds the choice, so a failing run can be replayed.
            kinds: The faults to choose from, uniformly.
            operations: Only calls of these operations; ``None`` matches all.
            delay: For `FaultKind.DELAY`, the seconds to hold the reply.
        """
        if not 0.0 <= rate <= 1.0:
            msg = f"rate must be between 0 and 1, got {rate}"
            raise ValueError(msg)
        with self._fault_lock:
            self._random_faults = _RandomFaults(
                rate=rate,
                kinds=tuple(kinds),
                operations=frozenset(operations) if operations is not None else None,
                delay=to_seconds(delay),
                rng=random.Random(seed),  # noqa: S311 - reproducible test faults
            )

    def clear_faults(self) -> None:
        """Remove every injected fault rule, counted and random."""
        with self._fault_lock:
            self._faults.clear()
            self._random_faults = None

    def complete(self, invalidation_id: str | None = None) -> None:
        """
        Mark invalidations ``Completed`` now, as if CloudFront had finished early.

        Args:
            invalidation_id: The one to complete; ``None`` completes every one.

        Raises:
            ApiError: No invalidation has this id.
        """
        self._backend.complete(invalidation_id)

    def reset(self) -> None:
        """
        Start afresh: forget every invalidation, call and fault, refill the rate limits.

        Distributions and tenants stay, so a long-running emulator (``cfinv
        serve``) can be reused test after test.
        """
        self.clear_faults()
        self._backend.reset()

    # --- introspection ------------------------------------------------------------

    def invalidations(self, distribution_id: str) -> tuple[EmulatedInvalidation, ...]:
        """
        Every invalidation of a distribution, oldest first, with batch and times.

        Args:
            distribution_id: The distribution.

        Raises:
            ApiError: No such distribution.
        """
        return self._backend.invalidations(TargetKind.DISTRIBUTION, distribution_id)

    def tenant_invalidations(self, tenant_id: str) -> tuple[EmulatedInvalidation, ...]:
        """
        Every invalidation of a distribution tenant, oldest first.

        Args:
            tenant_id: The distribution tenant.

        Raises:
            ApiError: No such distribution tenant.
        """
        return self._backend.invalidations(TargetKind.TENANT, tenant_id)

    @property
    def distributions(self) -> tuple[str, ...]:
        """The ids of every distribution, in creation order."""
        return tuple(self._backend.target_ids(TargetKind.DISTRIBUTION))

    @property
    def distribution_tenants(self) -> tuple[str, ...]:
        """The ids of every distribution tenant, in creation order."""
        return tuple(self._backend.target_ids(TargetKind.TENANT))

    @property
    def calls(self) -> tuple[CallRecord, ...]:
        """Every call received so far, oldest first."""
        return self._backend.calls()

    def client_kwargs(self) -> dict[str, Any]:
        """
        Keyword arguments for ``session.create_client("cloudfront", **kwargs)``.

        Endpoint, region and the first configured credentials (``testing``),
        and with ``tls=True`` the CA bundle to verify with (``verify``).
        """
        access_key, secret_key = next(iter((self._credentials or _DEFAULT_CREDENTIALS).items()))
        return client_settings(self.endpoint_url, access_key, secret_key, self.ca_bundle)

    def environ(self) -> dict[str, str]:
        """
        Environment variables that point AWS SDKs and the AWS CLI at the emulator.

        Sets the CloudFront-specific endpoint (``AWS_ENDPOINT_URL_CLOUDFRONT``),
        the region and the credentials, so unchanged deploy code talks to the
        emulator; with ``tls=True`` also the CA bundle (``AWS_CA_BUNDLE``, and
        ``NODE_EXTRA_CA_CERTS`` for Node.js).
        """
        return client_environ(self.client_kwargs())

    # --- the server ----------------------------------------------------------------

    def _new_uuid(self) -> uuid.UUID:
        """A random UUID from the runtime's random source (repeatable with a seed)."""
        return uuid.UUID(int=self._runtime.random.getrandbits(128), version=4)

    def _next_fault(self, operation: str) -> tuple[FaultKind, float] | None:
        with self._fault_lock:
            for rule in self._faults:
                if rule.operation in (None, operation) and rule.remaining > 0:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._faults.remove(rule)
                    return rule.kind, rule.delay
            chaos = self._random_faults
            if chaos is None or not chaos.kinds:
                return None
            if chaos.operations is not None and operation not in chaos.operations:
                return None
            if chaos.rng.random() >= chaos.rate:
                return None
            return chaos.rng.choice(chaos.kinds), chaos.delay

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        if self._credentials is None:
            return
        signed = _sigv4.SignedRequest(
            method=request.method,
            raw_path=request.rel_url.raw_path,
            raw_query=request.rel_url.raw_query_string,
            headers={k.lower(): request.headers.getall(k) for k in request.headers},
            body=body,
        )
        failure = _sigv4.verify(signed, self._credentials, now=utcnow())
        if failure is not None:
            raise ApiError(403, failure.code, failure.message)

    @property
    def denied_operations(self) -> frozenset[str]:
        """The operations answered 403 ``AccessDenied`` (see ``denied_operations=``)."""
        return self._denied

    def _authorize(self, operation: str, match: re.Match[str] | None) -> None:
        if operation not in self._denied:
            return
        kind = match["kind"] if match else "distribution"
        target = match["target"] if match else "*"
        resource = f"arn:aws:cloudfront::123456789012:{kind}/{target}"
        raise ApiError(
            403,
            "AccessDenied",
            f"User: arn:aws:iam::123456789012:user/testing is not authorized to perform: "
            f"cloudfront:{operation} on resource: {resource} because no identity-based policy "
            f"allows the cloudfront:{operation} action",
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await self._control(request, await request.read())
        request_id = str(self._new_uuid())
        match = _ROUTE.fullmatch(request.rel_url.raw_path)
        operation = (
            _operation(match["kind"], match["invalidation"], request.method) if match else None
        )
        record = CallRecord(
            operation=operation or "Unknown",
            target_id=match["target"] if match else None,
            status=None,
            error_code=None,
            fault=None,
            time=self._runtime.now(),
            request_id=request_id,
        )
        place = self._backend.record(record)  # at arrival: in flight until answered
        fault: tuple[FaultKind, float] | None = None
        try:
            body = await self._body(request)
            operation = self._check_route(request, match, operation)
            self._authenticate(request, body)
            self._authorize(operation, match)
            fault = self._next_fault(operation)
            if fault is not None:
                record = attrs.evolve(record, fault=fault[0])
                self._raise_fault(fault[0])
                if fault[0] is FaultKind.RESET_BEFORE:
                    return self._reset(request, place, record)
            if not self._backend.take_token(operation):
                raise ApiError(400, "Throttling", "Rate exceeded")  # noqa: TRY301
            assert match is not None  # noqa: S101 - _check_route refused the rest
            response, record = self._dispatch(request, match, operation, body, record)
        except ApiError as error:
            self._finish(place, attrs.evolve(record, status=error.status, error_code=error.code))
            answer = web.Response(
                status=error.status,
                text=_wire.error_xml(
                    error.code,
                    error.message,
                    request_id,
                    sender=error.status < 500,  # noqa: PLR2004
                ),
                content_type="text/xml",
                headers={"x-amzn-RequestId": request_id},
            )
            if error.status in {408, 413}:
                answer.force_close()
            return answer
        if fault is not None and fault[0] is FaultKind.RESET_AFTER:
            return self._reset(request, place, record)
        if fault is not None and fault[0] is FaultKind.DELAY:
            await self._runtime.sleep(fault[1])
        self._finish(place, attrs.evolve(record, status=response.status))
        return response

    async def _body(self, request: web.Request) -> bytes:
        """
        The request's body, read within the request timeout and size limit.

        Raises:
            ApiError: 408 ``RequestTimeout`` (too slow), 413
                ``RequestEntityTooLarge`` (too large).
        """
        try:
            return await asyncio.wait_for(request.read(), self._request_timeout)
        except asyncio.TimeoutError:
            msg = (
                "Your socket connection to the server was not read from or written to within "
                f"the timeout period ({self._request_timeout:g} s)."
            )
            raise ApiError(408, "RequestTimeout", msg) from None
        except web.HTTPRequestEntityTooLarge:
            size = request.content_length
            given = f"of {size} bytes " if size is not None else ""
            msg = f"The request body {given}is larger than {self._max_body_size} bytes."
            raise ApiError(413, "RequestEntityTooLarge", msg) from None

    def _reset(self, request: web.Request, place: int, record: CallRecord) -> web.StreamResponse:
        _reset_connection(request)
        self._finish(place, record)
        return web.Response()  # never sent: the connection is gone

    @staticmethod
    def _check_route(
        request: web.Request, match: re.Match[str] | None, operation: str | None
    ) -> str:
        if match is None:
            raise ApiError(
                501,
                "NotImplemented",
                f"{request.method} {request.rel_url.raw_path} is not an invalidation "
                "operation; cfinv's emulator implements only invalidations.",
            )
        if operation is None:
            raise ApiError(
                405, "MethodNotAllowed", f"{request.method} is not allowed on this resource."
            )
        return operation

    @staticmethod
    def _raise_fault(kind: FaultKind) -> None:
        if kind is FaultKind.THROTTLE:
            raise ApiError(400, "Throttling", "Rate exceeded")
        if kind is FaultKind.INTERNAL_ERROR:
            raise ApiError(500, "InternalError", _SERVICE_UNAVAILABLE)
        if kind is FaultKind.SERVICE_UNAVAILABLE:
            raise ApiError(503, "ServiceUnavailable", _SERVICE_UNAVAILABLE)

    def _finish(self, place: int, record: CallRecord) -> None:
        record = attrs.evolve(record, answered=True)
        self._backend.update(place, record)
        log.debug(
            "%s %s -> %s %s%s",
            record.operation,
            record.target_id,
            record.status if record.status is not None else "reset",
            record.error_code or "",
            f" (fault {record.fault.value})" if record.fault else "",
        )

    def _dispatch(
        self,
        request: web.Request,
        match: re.Match[str],
        operation: str,
        body: bytes,
        record: CallRecord,
    ) -> tuple[web.Response, CallRecord]:
        kind = TargetKind(match["kind"])
        target_id = match["target"]
        headers = {"x-amzn-RequestId": record.request_id}
        if operation.startswith("Create"):
            if not body.strip():
                # Observed (s3tools/s3cmd#1214, aws-sdk-php#1973): not the modeled MissingBody.
                raise ApiError(
                    400,
                    "MalformedXML",
                    "1 validation error detected: Value null at 'invalidationBatch' failed to "
                    "satisfy constraint: Member must not be null",
                )
            try:
                batch = _wire.parse_batch(body)
            except _wire.MalformedRequestError as exc:
                raise ApiError(400, "MalformedInput", str(exc)) from None
            invalidation, created = self._backend.create(kind, target_id, batch)
            headers["Location"] = (
                f"{request.scheme}://{request.host}/2020-05-31/{kind.value}/{target_id}"
                f"/invalidation/{invalidation.id}"
            )
            record = attrs.evolve(record, invalidation_id=invalidation.id, created=created)
            return self._invalidation_response(invalidation, 201, headers), record
        if operation.startswith("Get"):
            invalidation = self._backend.get(kind, target_id, match["invalidation"])
            record = attrs.evolve(record, invalidation_id=invalidation.id)
            return self._invalidation_response(invalidation, 200, headers), record
        marker = request.query.get("Marker", "")
        page, next_marker, max_items = self._backend.page(
            kind, target_id, marker, request.query.get("MaxItems", "")
        )
        now = self._runtime.now()
        text = _wire.invalidation_list_xml(
            marker=marker,
            max_items=max_items,
            summaries=[(i.id, i.create_time, i.status_at(now).value) for i in page],
            next_marker=next_marker,
        )
        return web.Response(status=200, text=text, content_type="text/xml", headers=headers), record

    def _invalidation_response(
        self, invalidation: EmulatedInvalidation, status: int, headers: dict[str, str]
    ) -> web.Response:
        text = _wire.invalidation_xml(
            invalidation.id,
            invalidation.status_at(self._runtime.now()).value,
            invalidation.create_time,
            invalidation.batch.paths.items,
            invalidation.batch.caller_reference,
        )
        return web.Response(status=status, text=text, content_type="text/xml", headers=headers)
