"""
The CloudFront calls cfinv makes, over an aiobotocore client, for a distribution or a tenant.

Every botocore or network error leaves this module as a cfinv error (through
`cfinv.errors.map_client_error`), and every call is counted.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cfinv.errors import map_client_error
from cfinv.models import Invalidation, InvalidationBatch, InvalidationSummary

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from types_aiobotocore_cloudfront import CloudFrontClient
    from types_aiobotocore_cloudfront.type_defs import InvalidationBatchTypeDef

T = TypeVar("T")

__all__ = ["CloudFrontApi"]

#: CloudFront returns at most 100 invalidations per ListInvalidations page.
PAGE_SIZE = 100


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


class CloudFrontApi:
    """
    Create, get and list invalidations of one distribution or distribution tenant.

    Args:
        client: An open aiobotocore CloudFront client.
        target_id: The distribution id, or the tenant id when ``tenant``.
        tenant: Whether ``target_id`` is a distribution tenant.
    """

    def __init__(
        self, client: CloudFrontClient | None, target_id: str, *, tenant: bool = False
    ) -> None:
        self.client = client
        self.target_id = target_id
        self.tenant = tenant
        suffix = "ForDistributionTenant" if tenant else ""
        self.create_operation = "CreateInvalidation" + suffix
        self.get_operation = "GetInvalidation" + suffix
        self.list_operation = "ListInvalidations" + suffix
        self.calls: collections.Counter[str] = collections.Counter()

    @property
    def _cf(self) -> CloudFrontClient:
        if self.client is None:
            msg = "no CloudFront client: the Invalidator is not open"
            raise RuntimeError(msg)
        return self.client

    async def _call(
        self, operation: str, call: Callable[[], Awaitable[T]], invalidation_id: str = ""
    ) -> T:
        self.calls[operation] += 1
        try:
            return await call()
        except Exception as exc:
            kind = "distribution tenant" if self.tenant else "distribution"
            context = f"{kind} {self.target_id}"
            if invalidation_id:
                context += f", invalidation {invalidation_id}"
            try:
                mapped = map_client_error(exc, context=context)
            except TypeError:
                raise exc from None  # not an AWS or network error: a bug, let it show
            raise mapped from exc

    async def create(self, batch: InvalidationBatch) -> Invalidation:
        """CreateInvalidation; the returned invalidation carries its ``Location``."""
        if self.tenant:
            response = await self._call(
                self.create_operation,
                lambda: self._cf.create_invalidation_for_distribution_tenant(
                    Id=self.target_id, InvalidationBatch=_wire_batch(batch)
                ),
            )
        else:
            response = await self._call(
                self.create_operation,
                lambda: self._cf.create_invalidation(
                    DistributionId=self.target_id, InvalidationBatch=_wire_batch(batch)
                ),
            )
        return Invalidation.from_api(response)

    async def get(self, invalidation_id: str) -> Invalidation:
        """GetInvalidation."""
        if self.tenant:
            response = await self._call(
                self.get_operation,
                lambda: self._cf.get_invalidation_for_distribution_tenant(
                    DistributionTenantId=self.target_id, Id=invalidation_id
                ),
                invalidation_id,
            )
        else:
            response = await self._call(
                self.get_operation,
                lambda: self._cf.get_invalidation(
                    DistributionId=self.target_id, Id=invalidation_id
                ),
                invalidation_id,
            )
        return Invalidation.from_api(response)

    async def list_page(
        self, *, marker: str = "", max_items: int = PAGE_SIZE
    ) -> tuple[list[InvalidationSummary], str | None]:
        """One ListInvalidations page, newest first, and the marker of the next (or None)."""
        kwargs: dict[str, Any] = {
            "MaxItems": max_items_param(self._cf, self.list_operation, max_items)
        }
        if marker:
            kwargs["Marker"] = marker
        if self.tenant:
            response = await self._call(
                self.list_operation,
                lambda: self._cf.list_invalidations_for_distribution_tenant(
                    Id=self.target_id, **kwargs
                ),
            )
        else:
            response = await self._call(
                self.list_operation,
                lambda: self._cf.list_invalidations(DistributionId=self.target_id, **kwargs),
            )
        listing = response.get("InvalidationList", {})
        items = [InvalidationSummary.from_api(item) for item in listing.get("Items") or ()]
        next_marker = listing.get("NextMarker") if listing.get("IsTruncated", True) else None
        return items, next_marker or None
