"""
``RemoteEmulator``: drive an emulator in another process as if it were in this one.

``cfinv serve`` (or ``python -m cfinv.testing``) runs the emulator on its own;
`RemoteEmulator` offers `CloudFrontEmulator`'s methods over its control API
(``/_cfinv/``), so the same test code sets up distributions, other writers
and faults, completes invalidations and reads the call log, whichever
emulator it is given.  Plain ``urllib``: no event loop, no extra dependency.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from cfinv.policies import to_seconds
from cfinv.testing._backend import ApiError, CallRecord, EmulatedInvalidation, FaultKind
from cfinv.testing._control import (
    PREFIX,
    call_from_json,
    client_environ,
    client_settings,
    invalidation_from_json,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

__all__ = ["RemoteEmulator"]


class RemoteEmulator:
    """
    A `CloudFrontEmulator` running elsewhere (``cfinv serve``), driven over HTTP.

    The methods and properties are `CloudFrontEmulator`'s, with the same
    arguments, answers and errors (`ApiError`):

        emu = RemoteEmulator("http://127.0.0.1:5000")
        dist = emu.create_distribution()
        emu.inject(FaultKind.THROTTLE, operation="CreateInvalidation")
        ...  # the code under test, pointed at emu.endpoint_url
        assert emu.calls[0].error_code == "Throttling"

    Args:
        url: The emulator's endpoint, as ``cfinv serve`` prints it.
        access_key: The access key id the emulator accepts (``--access-key``).
        secret_key: The secret key it accepts (``--secret-key``); never shown
            in ``repr``.
        ca_bundle: With ``--tls``: the CA bundle it printed, to verify it by.
        timeout: Seconds to wait for each control request.

    Raises:
        ValueError: ``url`` is not an http(s) URL.
    """

    def __init__(
        self,
        url: str,
        *,
        access_key: str = "testing",
        secret_key: str = "testing",  # noqa: S107 - the emulator's well-known default
        ca_bundle: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            msg = f"url must be the emulator's http(s) endpoint, got {url!r}"
            raise ValueError(msg)
        self._url = f"{parts.scheme}://{parts.netloc}"
        self._access_key = access_key
        self._secret_key = secret_key
        self._ca_bundle = ca_bundle
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None

    def __repr__(self) -> str:
        return f"<RemoteEmulator {self._url}>"

    # --- the HTTP ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        operation: str,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
    ) -> Any:
        url = self._url + PREFIX + operation
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked above
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - http(s) only
                request, timeout=self._timeout, context=self._context
            ) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise _api_error(error) from None
        return json.loads(text) if text else None

    # --- the emulator's API ----------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The URL to pass as ``endpoint_url`` to a client."""
        return self._url

    @property
    def ca_bundle(self) -> str | None:
        """The CA bundle to verify the emulator's TLS with (given), or None."""
        return self._ca_bundle

    @property
    def distributions(self) -> tuple[str, ...]:
        """The ids of every distribution, in creation order."""
        return tuple(self._request("GET", "")["Distributions"])

    @property
    def distribution_tenants(self) -> tuple[str, ...]:
        """The ids of every distribution tenant, in creation order."""
        return tuple(self._request("GET", "")["DistributionTenants"])

    def create_distribution(self, distribution_id: str | None = None) -> str:
        """
        Create a distribution and return its id.

        Args:
            distribution_id: The id to use; by default a generated one.
        """
        body = {} if distribution_id is None else {"Id": distribution_id}
        return str(self._request("POST", "distributions", body)["Id"])

    def create_distribution_tenant(self, tenant_id: str | None = None) -> str:
        """
        Create a distribution tenant and return its id.

        Args:
            tenant_id: The id to use; by default a generated one (``dt_...``).
        """
        body = {} if tenant_id is None else {"Id": tenant_id}
        return str(self._request("POST", "distribution-tenants", body)["Id"])

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
        Create an invalidation as another writer would (no HTTP call is recorded).

        Args:
            distribution_id: The distribution (or tenant, with ``tenant=True``).
            paths: The paths; normalised first.
            caller_reference: Defaults to a fresh unique one.
            tenant: ``distribution_id`` names a distribution tenant.
            latency: Seconds until it completes, instead of the configured latency.

        Raises:
            ApiError: A CloudFront rule refuses it (the budget is full, say).
        """
        body: dict[str, Any] = {
            ("DistributionTenantId" if tenant else "DistributionId"): distribution_id,
            "Paths": list(paths),
        }
        if caller_reference is not None:
            body["CallerReference"] = caller_reference
        if latency is not None:
            body["Latency"] = to_seconds(latency)
        return invalidation_from_json(self._request("POST", "invalidations", body))

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

        Args:
            kind: The fault.
            operation: Only calls of this operation; ``None`` matches every call.
            count: How many calls to affect.
            delay: For `FaultKind.DELAY`, the seconds to hold the reply.
        """
        body: dict[str, Any] = {"Kind": kind.value, "Count": count, "Delay": to_seconds(delay)}
        if operation is not None:
            body["Operation"] = operation
        self._request("POST", "faults", body)

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
        body: dict[str, Any] = {
            "Rate": rate,
            "Seed": seed,
            "Kinds": [kind.value for kind in kinds],
            "Delay": to_seconds(delay),
        }
        if operations is not None:
            body["Operations"] = list(operations)
        self._request("POST", "faults/random", body)

    def clear_faults(self) -> None:
        """Remove every injected fault rule, counted and random."""
        self._request("DELETE", "faults")

    def complete(self, invalidation_id: str | None = None) -> None:
        """
        Mark invalidations ``Completed`` now, as if CloudFront had finished early.

        Args:
            invalidation_id: The one to complete; ``None`` completes every one.

        Raises:
            ApiError: No invalidation has this id.
        """
        self._request(
            "POST", "complete", {} if invalidation_id is None else {"Id": invalidation_id}
        )

    def reset(self) -> None:
        """Forget every invalidation, call and fault; keep the distributions and tenants."""
        self._request("POST", "reset", {})

    def invalidations(self, distribution_id: str) -> tuple[EmulatedInvalidation, ...]:
        """
        Every invalidation of a distribution, oldest first.

        Args:
            distribution_id: The distribution.

        Raises:
            ApiError: No such distribution.
        """
        found = self._request("GET", "invalidations", query={"DistributionId": distribution_id})
        return tuple(invalidation_from_json(i) for i in found["Invalidations"])

    def tenant_invalidations(self, tenant_id: str) -> tuple[EmulatedInvalidation, ...]:
        """
        Every invalidation of a distribution tenant, oldest first.

        Args:
            tenant_id: The distribution tenant.

        Raises:
            ApiError: No such distribution tenant.
        """
        found = self._request("GET", "invalidations", query={"DistributionTenantId": tenant_id})
        return tuple(invalidation_from_json(i) for i in found["Invalidations"])

    @property
    def calls(self) -> tuple[CallRecord, ...]:
        """Every call received so far, oldest first (in flight ones too)."""
        return tuple(call_from_json(c) for c in self._request("GET", "calls")["Calls"])

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``session.create_client("cloudfront", **kwargs)``."""
        return client_settings(self._url, self._access_key, self._secret_key, self._ca_bundle)

    def environ(self) -> dict[str, str]:
        """Environment variables that point AWS SDKs and the AWS CLI at the emulator."""
        return client_environ(self.client_kwargs())


def _api_error(error: urllib.error.HTTPError) -> ApiError:
    """The control API's error answer as the `ApiError` the in-process emulator raises."""
    try:
        detail = json.loads(error.read())["Error"]
        return ApiError(error.code, str(detail["Code"]), str(detail["Message"]))
    except (ValueError, KeyError, TypeError):
        return ApiError(error.code, "ControlApiError", f"HTTP {error.code} {error.reason}")
