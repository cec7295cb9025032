"""
The CloudFront gateway: the one owner of the client, and every call cfinv makes through it.

A `Gateway` serves one distribution or distribution tenant.  It holds the
aiobotocore client (one the caller passed, never closed here, or one it
creates from the standard credential chain and closes), counts every call,
and turns every botocore or network error into a cfinv error through
`cfinv.errors.map_client_error`.  A gateway that is not open refuses calls
with `InvalidatorClosed` instead of handing a closed client to botocore.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from cfinv._loop import LoopLocal
from cfinv.errors import InvalidatorClosed, TransportError, map_client_error
from cfinv.models import Invalidation, InvalidationBatch, InvalidationSummary

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession
    from types_aiobotocore_cloudfront import CloudFrontClient
    from types_aiobotocore_cloudfront.type_defs import InvalidationBatchTypeDef

T = TypeVar("T")

__all__ = [
    "CONNECT_TIMEOUT",
    "PAGE_SIZE",
    "READ_TIMEOUT",
    "ClientOptions",
    "Gateway",
    "Tally",
    "share_loader",
]

#: CloudFront returns at most 100 invalidations per ListInvalidations page.
PAGE_SIZE = 100
#: Connection and read timeouts of a client cfinv creates (seconds): short
#: enough that a dead connection is noticed and retried within a deploy.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0


def _wire_batch(batch: InvalidationBatch) -> InvalidationBatchTypeDef:
    return cast("InvalidationBatchTypeDef", batch.to_api())


def max_items_param(client: Any, operation: str, value: int | str) -> int | str:  # noqa: ANN401
    """
    ``MaxItems`` in the type the client's model wants.

    The model types it as a string for ListInvalidations (in most botocore
    releases) and as an integer for the tenant variant.
    """
    model = client.meta.service_model.operation_model(operation)
    member = model.input_shape.members.get("MaxItems") if model.input_shape else None
    if member is not None and member.type_name == "string":
        return str(value)
    return int(value)


_LOADERS: dict[tuple[str, ...], Any] = {}


def share_loader(session: Any) -> Any:  # noqa: ANN401 - a botocore or aiobotocore session
    """
    Give ``session`` the process's one model loader, and return it.

    Loading CloudFront's service model takes about a tenth of a second; the
    models do not depend on credentials or profiles, so one loader (with its
    cache) serves every session cfinv makes.  Loaders are kept per search path
    (``AWS_DATA_PATH`` can change it).
    """
    loader = session.get_component("data_loader")
    session.register_component(
        "data_loader", _LOADERS.setdefault(tuple(loader.search_paths), loader)
    )
    return session


@attrs.define
class Tally:
    """
    What one ``invalidate()`` or ``wait()`` call spent: its own figures, never shared.

    A status call that answered for several calls counts in each of them.

    Attributes:
        calls: API calls per operation, retries included.
        retries: Calls that repeated a failed one.
    """

    calls: collections.Counter[str] = attrs.Factory(collections.Counter)
    retries: int = 0


@attrs.frozen
class ClientOptions:
    """
    How to create a CloudFront client when the caller passed none.

    Attributes:
        session: The aiobotocore session (default: a new one, standard credential chain).
        endpoint_url: Where to send requests (e.g. an emulator).
        region_name: The region to sign for (CloudFront is global: ``us-east-1``
            unless the session's configuration says otherwise).
        config: The caller's ``AioConfig``, merged over cfinv's defaults.
        verify: TLS certificate checking: ``False`` to skip it, or the path of
            a CA bundle (botocore's ``verify``); ``None`` for the default.
    """

    session: AioSession | None = None
    endpoint_url: str | None = None
    region_name: str | None = None
    config: AioConfig | None = None
    verify: bool | str | None = None

    def merged_config(self) -> AioConfig:
        """Cfinv's defaults under the caller's config: botocore does not retry (cfinv does)."""
        from aiobotocore.config import AioConfig

        ours = AioConfig(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        return ours if self.config is None else ours.merge(self.config)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[CloudFrontClient]:
        """A new CloudFront client, closed on exit."""
        session = self.session
        if session is None:
            from aiobotocore.session import get_session

            session = share_loader(get_session())
        # CloudFront is global: without a configured region, sign for us-east-1 as AWS does.
        region = self.region_name or session.get_config_variable("region") or "us-east-1"
        async with session.create_client(
            "cloudfront",
            region_name=region,
            endpoint_url=self.endpoint_url,
            config=self.merged_config(),
            verify=self.verify,
        ) as client:
            yield client


class Gateway:
    """
    Create, get and list invalidations of one distribution or distribution tenant.

    Args:
        target_id: The distribution id, or the tenant id when ``tenant``.
        tenant: Whether ``target_id`` is a distribution tenant.
        client: An open client to use (never closed here); ``None`` creates
            one from ``options`` on `open`.
        options: How to create the client when ``client`` is ``None``.
    """

    def __init__(
        self,
        target_id: str,
        *,
        tenant: bool = False,
        client: CloudFrontClient | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        self.target_id = target_id
        self.tenant = tenant
        suffix = "ForDistributionTenant" if tenant else ""
        self.create_operation = "CreateInvalidation" + suffix
        self.get_operation = "GetInvalidation" + suffix
        self.list_operation = "ListInvalidations" + suffix
        #: Every call made, per operation.
        self.calls: collections.Counter[str] = collections.Counter()
        self._borrowed = client
        self._options = options or ClientOptions()
        self._client: CloudFrontClient | None = None
        self._owned: contextlib.AsyncExitStack | None = None
        self._opening = LoopLocal(asyncio.Lock)

    def __repr__(self) -> str:
        kind = "tenant" if self.tenant else "distribution"
        return f"<Gateway {kind}={self.target_id} {'open' if self.is_open else 'closed'}>"

    @property
    def context(self) -> str:
        """What the calls are about, for error messages: ``distribution E2ABC``."""
        return f"{'distribution tenant' if self.tenant else 'distribution'} {self.target_id}"

    # --- the client --------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether calls can be made."""
        return self._client is not None

    async def open(self) -> None:
        """Take the caller's client, or create one; concurrent first calls create one, not two."""
        async with self._opening.get():
            if self._client is not None:
                return
            if self._borrowed is not None:
                self._client = self._borrowed
                return
            stack = contextlib.AsyncExitStack()
            self._client = await stack.enter_async_context(self._options.client())
            self._owned = stack

    async def close(self) -> None:
        """Let the client go: close it if this gateway created it."""
        owned, self._owned = self._owned, None
        self._client = None
        if owned is not None:
            await owned.aclose()

    # --- the calls ----------------------------------------------------------------------

    async def _call(
        self,
        operation: str,
        call: Callable[[CloudFrontClient], Awaitable[T]],
        *,
        invalidation_id: str = "",
        tallies: Sequence[Tally] = (),
    ) -> T:
        client = self._client
        if client is None:
            msg = f"{self.context}: the client is closed; no {operation} call was made"
            raise InvalidatorClosed(msg)
        self.calls[operation] += 1
        for tally in tallies:
            tally.calls[operation] += 1
        try:
            return await call(client)
        except Exception as exc:
            context = self.context
            if invalidation_id:
                context += f", invalidation {invalidation_id}"
            try:
                mapped = map_client_error(exc, context=context)
            except TypeError:
                raise exc from None  # not an AWS or network error: a bug, let it show
            raise mapped from exc

    async def create(
        self, batch: InvalidationBatch, *, tallies: Sequence[Tally] = ()
    ) -> Invalidation:
        """CreateInvalidation; the returned invalidation carries its ``Location``."""
        wire = _wire_batch(batch)
        if self.tenant:
            response = await self._call(
                self.create_operation,
                lambda cf: cf.create_invalidation_for_distribution_tenant(
                    Id=self.target_id, InvalidationBatch=wire
                ),
                tallies=tallies,
            )
        else:
            response = await self._call(
                self.create_operation,
                lambda cf: cf.create_invalidation(
                    DistributionId=self.target_id, InvalidationBatch=wire
                ),
                tallies=tallies,
            )
        return self._read(Invalidation.from_api, response, self.create_operation)

    async def get(self, invalidation_id: str, *, tallies: Sequence[Tally] = ()) -> Invalidation:
        """GetInvalidation."""
        if self.tenant:
            response = await self._call(
                self.get_operation,
                lambda cf: cf.get_invalidation_for_distribution_tenant(
                    DistributionTenantId=self.target_id, Id=invalidation_id
                ),
                invalidation_id=invalidation_id,
                tallies=tallies,
            )
        else:
            response = await self._call(
                self.get_operation,
                lambda cf: cf.get_invalidation(DistributionId=self.target_id, Id=invalidation_id),
                invalidation_id=invalidation_id,
                tallies=tallies,
            )
        return self._read(Invalidation.from_api, response, self.get_operation)

    async def list_page(
        self,
        *,
        marker: str = "",
        max_items: int = PAGE_SIZE,
        tallies: Sequence[Tally] = (),
    ) -> tuple[list[InvalidationSummary], str | None]:
        """One ListInvalidations page, newest first, and the marker of the next (or None)."""

        def kwargs(cf: CloudFrontClient) -> dict[str, Any]:
            found: dict[str, Any] = {
                "MaxItems": max_items_param(cf, self.list_operation, max_items)
            }
            if marker:
                found["Marker"] = marker
            return found

        if self.tenant:
            response = await self._call(
                self.list_operation,
                lambda cf: cf.list_invalidations_for_distribution_tenant(
                    Id=self.target_id, **kwargs(cf)
                ),
                tallies=tallies,
            )
        else:
            response = await self._call(
                self.list_operation,
                lambda cf: cf.list_invalidations(DistributionId=self.target_id, **kwargs(cf)),
                tallies=tallies,
            )
        return self._read(_page, response, self.list_operation)

    def _read(self, parse: Callable[[Any], T], response: Any, operation: str) -> T:  # noqa: ANN401
        """Parse an answer; one cfinv cannot read is a (retryable) transport error, not a crash."""
        try:
            return parse(response)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = (
                f"{operation}: an answer cfinv cannot read ({type(exc).__name__}: {exc}) "
                f"({self.context})"
            )
            raise TransportError(msg) from exc


def _page(response: Any) -> tuple[list[InvalidationSummary], str | None]:  # noqa: ANN401
    listing = response.get("InvalidationList", {})
    items = [InvalidationSummary.from_api(item) for item in listing.get("Items") or ()]
    next_marker = listing.get("NextMarker") if listing.get("IsTruncated", True) else None
    return items, next_marker or None
