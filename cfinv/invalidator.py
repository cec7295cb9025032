"""
The async engine's face: plan, schedule within CloudFront's limits, create idempotently, wait.

    report = await Invalidator("EDFDVBD6EXAMPLE").invalidate(paths)

For each call, `Invalidator`

1. plans the paths (`cfinv.plan_paths`): nothing is sent if any is invalid;
2. discovers invalidations already in progress on the distribution (other
   writers) and counts them against the in-progress budget;
3. sends each batch as soon as it fits the budget, paced to CloudFront's
   create rate, retrying throttling, 5xx and dropped connections with the
   batch's own CallerReference, so no batch is ever created twice;
4. polls until every invalidation is ``Completed`` (one ListInvalidations
   answering for several in flight), sending the next batches the moment
   capacity frees up;
5. returns an `InvalidationReport`.

This module holds the facade and its lifecycle; the parts live in
`cfinv._engine` (what the calls share), `cfinv._run` (one call),
`cfinv._poller`, `cfinv._discovery`, `cfinv._gateway` (the client),
`cfinv._budget`, `cfinv._retrying` and `cfinv._emitter`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from typing import TYPE_CHECKING, Any, Literal

import attrs

from cfinv._engine import Engine
from cfinv._gateway import ClientOptions, Gateway
from cfinv._references import References
from cfinv._run import Ending, Run, gather_or_cancel, supervise
from cfinv.errors import (
    CfinvError,
    InvalidateManyError,
    InvalidationTimeout,
    InvalidatorClosed,
)
from cfinv.events import Finished, Planned
from cfinv.models import Limits
from cfinv.pacing import CreatePacer
from cfinv.paths import plan_paths
from cfinv.policies import PollPolicy, RetryPolicy, to_seconds
from cfinv.runtime import Runtime
from cfinv.trees import load_tree

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping
    from types import TracebackType

    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from opentelemetry.trace import TracerProvider
    from types_aiobotocore_cloudfront import CloudFrontClient

    from cfinv.events import Event
    from cfinv.models import Invalidation
    from cfinv.report import InvalidationReport
    from cfinv.trees import TreeSource

__all__ = ["Invalidator", "invalidate_many"]


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


class _State(enum.Enum):
    """Where an Invalidator is in its life (httpx's client state, for the same reasons)."""

    #: Not entered: each call opens what it needs, and the last one closes it.
    UNOPENED = "ready"
    #: Inside ``async with``: the client stays open between calls.
    OPENED = "open"
    #: After ``async with`` or ``aclose()``: every call is refused.
    CLOSED = "closed"


@attrs.frozen
class _Call:
    """One running ``invalidate()`` or ``wait()``: how to stop it, and when it has let go."""

    closing: asyncio.Future[None]
    settled: asyncio.Future[None]


class Invalidator:
    """
    Invalidates paths of one CloudFront distribution, within its limits, and waits.

    Use it once, and it opens and closes its own client:

        report = await Invalidator("EDFDVBD6EXAMPLE").invalidate(["/index.html", "/img/*"])

    or keep it open across calls (and share its in-progress budget between
    concurrent calls):

        async with Invalidator("EDFDVBD6EXAMPLE", client=cf) as inv:
            report = await inv.invalidate(paths, timeout=900)

    Leaving the ``async with`` block (or calling `aclose`) while calls still
    run fails each of them at once with `InvalidatorClosed`, whose
    ``report`` lists what they created.

    Args:
        distribution_id: The distribution to invalidate (or the tenant, see
            `for_distribution_tenant`).
        client: An open aiobotocore CloudFront client to use; cfinv never
            closes it.  Its retry configuration is left alone: give it
            ``retries={"total_max_attempts": 1}`` to leave retrying to cfinv.
        session: An aiobotocore session to create the client from (default: a
            new one, using the standard credential chain).
        endpoint_url: Where to send requests (e.g. an emulator).
        region_name: The region for the client (CloudFront is global).
        config: An ``AioConfig`` for the client cfinv creates.  cfinv turns
            botocore's own retries off (it retries itself) unless this config
            sets ``retries``.
        verify: For the client cfinv creates: ``False`` skips TLS certificate
            checks, a path names a CA bundle to trust (botocore's ``verify``).
        limits: The in-progress budget per distribution (CloudFront's quotas).
            Lower it to leave room for other writers.
        retry: How failed calls are retried.
        poll: How often completion is checked.
        pacer: The CreateInvalidation pacer.  Share one between Invalidators
            of one AWS account; by default each has its own, at 0.5 calls/s.
        caller_reference_prefix: The readable start of every CallerReference.
        caller_reference: Makes the CallerReference of batch ``i`` instead
            (it must be unique per batch; it is reused for that batch's
            retries).  A later run with the same function finds the batches
            an earlier one created, as with ``deploy_id``.
        deploy_id: Names the deploy (1-64 ASCII letters, digits, ``.``, ``_``,
            ``-``; a CI run id, say).  Every CallerReference carries it, and
            before sending, a call reads what earlier runs of the same deploy
            created in the last day, follows those still in progress and sends
            only the paths they do not cover: a re-run after a crash, a kill
            or a retried job creates nothing twice and loses nothing.
        on_event: Called (or awaited) with every `cfinv.events` event.
            An exception it raises is logged, not propagated.
        runtime: Clocks, sleep and randomness (`cfinv.runtime.Runtime`; the
            real ones by default).  Tests pass a `cfinv.testing.VirtualClock`'s
            runtime to run on virtual time, or ``Runtime.seeded(1)`` for
            repeatable jitter and CallerReferences.
        tenant: ``distribution_id`` names a distribution tenant.
        discovery: Before sending, read which invalidations other writers
            have in progress (``ListInvalidations`` and ``GetInvalidation``),
            so batches fit what is free.  ``False`` reads nothing: the first
            create is sent at once, and one that does not fit is refused with
            ``TooManyInvalidationsInProgress``, after which cfinv waits and
            retries.  With ``True`` and a policy that denies those reads,
            cfinv logs one warning and goes on as with ``False``.  A
            ``deploy_id`` needs discovery (it reads what earlier runs created).
            See the docs' IAM page for the permissions each use needs.
        tracer_provider: Where OpenTelemetry spans go (`cfinv.telemetry`):
            ``None`` for the global provider (if ``opentelemetry-api`` is
            installed), ``False`` for no spans.
    """

    def __init__(
        self,
        distribution_id: str,
        *,
        client: CloudFrontClient | None = None,
        session: AioSession | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: AioConfig | None = None,
        verify: bool | str | None = None,
        limits: Limits = Limits(),  # noqa: B008 - an immutable value
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - an immutable value
        poll: PollPolicy = PollPolicy(),  # noqa: B008 - an immutable value
        pacer: CreatePacer | None = None,
        caller_reference_prefix: str = "cfinv",
        caller_reference: Callable[[int], str] | None = None,
        deploy_id: str | None = None,
        on_event: Callable[[Event], Any] | None = None,
        runtime: Runtime | None = None,
        tenant: bool = False,
        discovery: bool = True,
        tracer_provider: TracerProvider | Literal[False] | None = None,
    ) -> None:
        if not _is_id(distribution_id):
            msg = f"distribution_id must be a non-empty string, got {distribution_id!r}"
            raise ValueError(msg)
        options = ClientOptions(session, endpoint_url, region_name, config, verify)
        self._session = session  # an s3:// tree is listed with it too
        if client is not None and options != ClientOptions():
            msg = (
                "pass either client= or the options to create one "
                "(session, endpoint_url, region_name, config, verify), not both"
            )
            raise ValueError(msg)
        if not discovery and deploy_id is not None:
            msg = (
                f"deploy_id={deploy_id!r} needs discovery: a run of a deploy reads what earlier "
                "runs created (ListInvalidations, GetInvalidation); drop deploy_id or "
                "discovery=False"
            )
            raise ValueError(msg)
        self.distribution_id = distribution_id
        self.tenant = tenant
        self.limits = limits
        runtime = runtime if runtime is not None else Runtime()
        references = References(
            runtime, prefix=caller_reference_prefix, deploy_id=deploy_id, custom=caller_reference
        )

        self._engine = Engine(
            gateway=Gateway(
                distribution_id,
                tenant=tenant,
                client=client,
                options=options,
            ),
            runtime=runtime,
            limits=limits,
            retry=retry,
            poll=poll,
            pacer=pacer if pacer is not None else CreatePacer(runtime=runtime),
            on_event=on_event,
            references=references,
            discovery=discovery,
            tracer_provider=tracer_provider,
        )
        self._state = _State.UNOPENED
        self._calls: set[_Call] = set()

    @classmethod
    def for_distribution_tenant(cls, tenant_id: str, **options: Any) -> Invalidator:  # noqa: ANN401
        """
        An Invalidator for a distribution tenant (the ``...ForDistributionTenant`` calls).

        Args:
            tenant_id: The distribution tenant's id.
            **options: Any keyword option of `Invalidator`.
        """
        return cls(tenant_id, tenant=True, **options)

    def __repr__(self) -> str:
        kind = "tenant" if self.tenant else "distribution"
        return f"<Invalidator {kind}={self.distribution_id} {self._state.value}>"

    @property
    def submitted(self) -> tuple[Invalidation, ...]:
        """Every invalidation this Invalidator created, as last seen, oldest first."""
        return tuple(self._engine.submitted.values())

    @property
    def api_calls(self) -> dict[str, int]:
        """Calls made so far, per API operation."""
        return dict(self._engine.gateway.calls)

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Invalidator:
        if self._state is _State.CLOSED:
            msg = f"{self!r} was closed; create a new Invalidator"
            raise InvalidatorClosed(msg)
        await self._engine.gateway.open()
        self._state = _State.OPENED
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """
        Close for good: running calls fail at once with `InvalidatorClosed`, then the client closes.

        Each running call first looks up a create it had under way (by its
        CallerReference), so the error's report lists everything it created.
        Closing twice is harmless.
        """
        self._state = _State.CLOSED
        calls = list(self._calls)
        for call in calls:
            if not call.closing.done():
                call.closing.set_result(None)
        try:
            if calls:
                await asyncio.wait([call.settled for call in calls])
        finally:
            # Even if this close is itself cancelled (a shutdown cut short, or
            # aclose() awaited from a callback of a call it stops): nothing is
            # left running and no client open.
            await asyncio.shield(self._shut_down())

    async def _shut_down(self) -> None:
        await self._engine.poller.stop()
        await self._engine.gateway.close()

    @contextlib.asynccontextmanager
    async def _activity(self) -> AsyncIterator[_Call]:
        """One call's hold on the Invalidator: open what it needs; the last call closes it."""
        if self._state is _State.CLOSED:
            msg = f"{self!r} was closed after its `async with` block; create a new Invalidator"
            raise InvalidatorClosed(msg)
        loop = asyncio.get_running_loop()
        call = _Call(closing=loop.create_future(), settled=loop.create_future())
        self._calls.add(call)
        try:
            await self._engine.gateway.open()
            self._engine.poller.start()
            yield call
        finally:
            self._calls.discard(call)
            call.settled.set_result(None)
            if not self._calls and self._state is _State.UNOPENED:
                await self._engine.poller.stop()
                # A new call may have started meanwhile: it keeps the client.
                if not self._calls and self._state is _State.UNOPENED:
                    await self._engine.gateway.close()

    # --- the public calls ---------------------------------------------------------------

    async def invalidate(
        self,
        paths: Iterable[str],
        *,
        wait: bool = True,
        timeout: float | dt.timedelta | None = None,
        raise_on_timeout: bool = True,
        tree: TreeSource | None = None,
        max_paths: int | None = None,
        max_wildcards: int | None = None,
        index_document: str | None = None,
    ) -> InvalidationReport:
        """
        Invalidate ``paths`` and (by default) wait until every invalidation is ``Completed``.

        Args:
            paths: The changed paths, as `cfinv.plan_paths` takes them.
            wait: Wait for completion; with ``False``, return once every batch
                was accepted (which may still mean waiting for capacity).
            timeout: Give up after this long (seconds or ``timedelta``);
                ``None`` waits as long as it takes.
            raise_on_timeout: On timeout, raise `InvalidationTimeout`
                (carrying the partial report); with ``False``, return the
                partial report (``report.timed_out`` is true).
            tree: The site's served paths after the deploy, to collapse the
                changed paths into wildcards within a budget at the least
                collateral: a build directory, a listing file,
                ``s3://bucket/prefix`` or the paths (see `cfinv.trees.load_tree`).
            max_paths: The budget of billable paths (needs ``tree``); with a
                tree and no budget, the cheapest one, collateral priced at
                `cfinv.paths.DEFAULT_PRICE_PER_OBJECT` an object.
            max_wildcards: At most this many wildcards (needs ``tree``).
            index_document: The file a directory URL serves (``"index.html"``):
                a changed ``/a/index.html`` invalidates ``/a/`` too.

        Returns:
            The report: every batch with its invalidation and times.

        Raises:
            InvalidPathError: A path is invalid; nothing was sent.
            TreeSourceError: The tree could not be read; nothing was sent.
            ValueError: A budget without a tree, or one too small for the cache
                tags given or for the change.
            InvalidationTimeout: The timeout passed first.
            InvalidatorClosed: The Invalidator was closed before or during the call.
            CloudFrontError: A call failed in a way retrying cannot fix
                (e.g. `AccessDenied`, `NoSuchDistribution`); no batch is sent
                after it, and its ``report`` lists what was created.
        """
        limit = None if timeout is None else to_seconds(timeout)
        served = None if tree is None else await load_tree(tree, session=self._session)
        plan = plan_paths(
            paths,
            limits=self.limits,
            tree=served,
            max_paths=max_paths,
            max_wildcards=max_wildcards,
            index_document=index_document,
        )
        engine = self._engine
        async with self._activity() as call:
            run = Run(engine, plan, wait=wait)
            await engine.emitter.emit(Planned(self.distribution_id, plan=plan))
            try:
                ending = await supervise(run.execute(), engine, limit, call.closing)
            except CfinvError as error:
                await run.recover()
                error.report = run.report()
                await engine.emitter.emit(
                    Finished(self.distribution_id, report=error.report, error=error)
                )
                raise
            if ending is not Ending.DONE:
                await run.recover()
            # What the recovery found may be all there was to wait for.
            timed_out = ending is Ending.TIMED_OUT and run.unfinished()
            report = run.report(timed_out=timed_out)
            await engine.emitter.emit(Finished(self.distribution_id, report=report))
        if ending is Ending.CLOSED:
            msg = (
                f"{self!r} was closed while invalidate() ran; {len(report.invalidations)} "
                "invalidation(s) created go on at CloudFront (see the error's report)"
            )
            raise InvalidatorClosed(msg, report=report, invalidations=report.invalidations)
        if timed_out and raise_on_timeout:
            msg = (
                f"{self.distribution_id}: {len(report.pending)} of {len(report.batches)} batches "
                f"not completed after {limit:g}s; the report lists what was created "
                "(resume with wait(ids))"
            )
            raise InvalidationTimeout(msg, report=report, invalidations=report.invalidations)
        return report

    async def wait(
        self,
        ids: Iterable[str],
        *,
        timeout: float | dt.timedelta | None = None,
        raise_on_timeout: bool = True,
    ) -> tuple[Invalidation, ...]:
        """
        Wait until invalidations created earlier (by cfinv or anything else) are ``Completed``.

        Args:
            ids: Invalidation ids of this distribution.
            timeout: Give up after this long; ``None`` waits as long as it takes.
            raise_on_timeout: On timeout raise `InvalidationTimeout`;
                with ``False`` return them as last seen.

        Returns:
            The invalidations, in the order given, as last seen.

        Raises:
            NoSuchInvalidation: An id is unknown on this distribution.
            InvalidationTimeout: The timeout passed first.
            InvalidatorClosed: The Invalidator was closed before or during the wait.
        """
        limit = None if timeout is None else to_seconds(timeout)
        wanted = list(dict.fromkeys(ids))
        latest: dict[str, Invalidation] = {}
        engine = self._engine
        poller = engine.poller

        async def follow(invalidation_id: str) -> None:
            if invalidation_id in poller:
                future = poller.future(invalidation_id)
            else:
                current = await engine.discovery.get(invalidation_id)
                latest[invalidation_id] = current
                future = poller.follow(current)
            latest[invalidation_id] = await asyncio.shield(future)

        async with self._activity() as call:
            ending = await supervise(
                gather_or_cancel(follow(i) for i in wanted), engine, limit, call.closing
            )
        result = tuple(
            found for i in wanted if (found := poller.current(i) or latest.get(i)) is not None
        )
        if ending is Ending.CLOSED:
            msg = f"{self!r} was closed while wait() ran"
            raise InvalidatorClosed(msg, invalidations=result)
        if ending is Ending.TIMED_OUT and raise_on_timeout:
            pending = [inv.id for inv in result if not inv.is_completed]
            msg = f"{self.distribution_id}: {pending} not completed after {limit:g}s"
            raise InvalidationTimeout(msg, invalidations=result)
        return result


async def invalidate_many(
    targets: Mapping[str, Iterable[str]],
    *,
    wait: bool = True,
    timeout: float | dt.timedelta | None = None,
    raise_on_timeout: bool = True,
    client: CloudFrontClient | None = None,
    session: AioSession | None = None,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    config: AioConfig | None = None,
    verify: bool | str | None = None,
    pacer: CreatePacer | None = None,
    tenants: Mapping[str, Iterable[str]] | None = None,
    stop: asyncio.Event | None = None,
    tree: TreeSource | None = None,
    max_paths: int | None = None,
    max_wildcards: int | None = None,
    index_document: str | None = None,
    **options: Any,  # noqa: ANN401 - Invalidator's keyword options, passed through
) -> dict[str, InvalidationReport]:
    """
    Invalidate several distributions at once, on one client and one account-wide create pacer.

    ``reports = await invalidate_many({"E1AAAAAAAAAAAA": ["/*"], "E2BBBBBBBBBBBB": ["/a"]})``

    Args:
        targets: Distribution id -> its changed paths.
        wait: As for `Invalidator.invalidate`.
        timeout: As for `Invalidator.invalidate`, per distribution.
        raise_on_timeout: As for `Invalidator.invalidate`.
        client: An open aiobotocore CloudFront client to share (never closed by cfinv).
        session: An aiobotocore session to create the shared client from.
        endpoint_url: Where the created client sends requests.
        region_name: The created client's region.
        config: The created client's ``AioConfig``.
        verify: The created client's TLS certificate checking (as for `Invalidator`).
        pacer: The shared CreateInvalidation pacer (default: 0.5 calls/s, burst 5).
        tenants: Distribution tenant id -> its changed paths, invalidated alongside.
        stop: Once set (from a signal handler, say), every call stops sending
            at once and fails with `InvalidatorClosed`, its partial report
            attached, as if its Invalidator were closed.
        tree: As for `Invalidator.invalidate`; read once for every target.
        max_paths: As for `Invalidator.invalidate`, per target.
        max_wildcards: As for `Invalidator.invalidate`, per target.
        index_document: As for `Invalidator.invalidate`.
        **options: Passed to every `Invalidator` (``limits``, ``retry``,
            ``poll``, ``on_event``, ``runtime``, ...).

    Returns:
        Distribution (or tenant) id -> its report.

    Raises:
        InvalidateManyError: Some distributions failed (the others' reports are in it).
    """
    if pacer is None:
        pacer = CreatePacer(runtime=options.get("runtime"))
    served = None if tree is None else await load_tree(tree, session=session)
    planning: dict[str, Any] = {
        "tree": served,
        "max_paths": max_paths,
        "max_wildcards": max_wildcards,
        "index_document": index_document,
    }
    reports: dict[str, InvalidationReport] = {}
    errors: dict[str, BaseException] = {}
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(
                ClientOptions(session, endpoint_url, region_name, config, verify).client()
            )

        invalidators = {
            (target, tenant): Invalidator(
                target, client=client, pacer=pacer, tenant=tenant, **options
            )
            for target, tenant in [
                *((d, False) for d in targets),
                *((t, True) for t in (tenants or {})),
            ]
        }

        async def one(target: str, paths: Iterable[str], *, tenant: bool) -> None:
            try:
                reports[target] = await invalidators[target, tenant].invalidate(
                    paths,
                    wait=wait,
                    timeout=timeout,
                    raise_on_timeout=raise_on_timeout,
                    **planning,
                )
            except Exception as exc:  # noqa: BLE001 - collected and raised together below
                errors[target] = exc

        async def stop_all() -> None:
            assert stop is not None  # noqa: S101 - started only with one
            await stop.wait()
            await asyncio.gather(*(i.aclose() for i in invalidators.values()))

        stopper = asyncio.ensure_future(stop_all()) if stop is not None else None
        try:
            await asyncio.gather(
                *(one(d, p, tenant=False) for d, p in targets.items()),
                *(one(t, p, tenant=True) for t, p in (tenants or {}).items()),
            )
        finally:
            if stopper is not None:
                stopper.cancel()
                await asyncio.gather(stopper, return_exceptions=True)
    if errors:
        raise InvalidateManyError(reports, errors)
    return reports
