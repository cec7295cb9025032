"""
The emulator's control API: drive it over HTTP from any language.

Everything `CloudFrontEmulator` offers a Python test (distributions, another
writer's invalidations, faults, ``complete``, the call log, ``reset``) is a
JSON request under ``/_cfinv/``, a prefix CloudFront's API never uses (its
paths start with ``/2020-05-31/``).  Control requests are not signed, not
rate-limited and not recorded among the calls.  `RemoteEmulator` is the
Python client; the docs show curl and JavaScript.

The JSON forms of invalidations and call records live here too, so that the
server and `RemoteEmulator` read and write them the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from cfinv.models import InvalidationBatch, Paths
from cfinv.testing._backend import ApiError, CallRecord, EmulatedInvalidation, FaultKind

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    from cfinv.testing._emulator import CloudFrontEmulator

__all__ = [
    "PREFIX",
    "call_from_json",
    "call_to_json",
    "client_environ",
    "client_settings",
    "handle_control",
    "invalidation_from_json",
    "invalidation_to_json",
]

#: Where the control API lives.
PREFIX = "/_cfinv/"


# --- the JSON forms -----------------------------------------------------------------------


def _time(value: dt.datetime) -> str:
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def invalidation_to_json(invalidation: EmulatedInvalidation, now: dt.datetime) -> dict[str, Any]:
    """An invalidation as the control API shows it, with its status at ``now``."""
    return {
        "Id": invalidation.id,
        "TargetId": invalidation.target_id,
        "Paths": list(invalidation.batch.paths.items),
        "CallerReference": invalidation.batch.caller_reference,
        "CreateTime": _time(invalidation.create_time),
        "CompleteTime": _time(invalidation.complete_time),
        "Status": invalidation.status_at(now).value,
    }


def invalidation_from_json(data: dict[str, Any]) -> EmulatedInvalidation:
    """The `EmulatedInvalidation` a control API answer describes."""
    return EmulatedInvalidation(
        id=data["Id"],
        target_id=data["TargetId"],
        batch=InvalidationBatch(Paths(tuple(data["Paths"])), data["CallerReference"]),
        create_time=_parse_time(data["CreateTime"]),
        complete_time=_parse_time(data["CompleteTime"]),
    )


def call_to_json(call: CallRecord) -> dict[str, Any]:
    """A call record as the control API shows it."""
    return {
        "Operation": call.operation,
        "TargetId": call.target_id,
        "Status": call.status,
        "ErrorCode": call.error_code,
        "Fault": call.fault.value if call.fault is not None else None,
        "Time": _time(call.time),
        "InvalidationId": call.invalidation_id,
        "Created": call.created,
        "RequestId": call.request_id,
        "Answered": call.answered,
    }


def call_from_json(data: dict[str, Any]) -> CallRecord:
    """The `CallRecord` a control API answer describes."""
    return CallRecord(
        operation=data["Operation"],
        target_id=data["TargetId"],
        status=data["Status"],
        error_code=data["ErrorCode"],
        fault=FaultKind(data["Fault"]) if data["Fault"] is not None else None,
        time=_parse_time(data["Time"]),
        invalidation_id=data["InvalidationId"],
        created=data["Created"],
        request_id=data["RequestId"],
        answered=data["Answered"],
    )


# --- how a client reaches an emulator ----------------------------------------------------


def client_settings(
    endpoint_url: str, access_key: str, secret_key: str, ca_bundle: str | None
) -> dict[str, Any]:
    """``create_client("cloudfront", **settings)`` for an emulator (in-process or remote)."""
    settings: dict[str, Any] = {
        "endpoint_url": endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": access_key,
        "aws_secret_access_key": secret_key,
    }
    if ca_bundle is not None:
        settings["verify"] = ca_bundle
    return settings


def client_environ(settings: dict[str, Any]) -> dict[str, str]:
    """The environment variables that give AWS SDKs and the AWS CLI the same ``settings``."""
    env = {
        "AWS_ENDPOINT_URL_CLOUDFRONT": settings["endpoint_url"],
        "AWS_DEFAULT_REGION": settings["region_name"],
        "AWS_REGION": settings["region_name"],
        "AWS_ACCESS_KEY_ID": settings["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": settings["aws_secret_access_key"],
    }
    if "verify" in settings:
        env["AWS_CA_BUNDLE"] = env["NODE_EXTRA_CA_CERTS"] = settings["verify"]
    return env


# --- the server side ------------------------------------------------------------------------


def _bad(message: str) -> ApiError:
    return ApiError(400, "InvalidRequest", message)


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(name, default)
    if value is not default and not isinstance(value, kind):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        msg = f"{name} must be {expected}, got {json.dumps(value)}"
        raise _bad(msg)
    return value


def _fault_kind(value: Any) -> FaultKind:
    try:
        return FaultKind(value)
    except ValueError:
        names = ", ".join(kind.value for kind in FaultKind)
        raise _bad(f"Kind must be one of {names}; got {json.dumps(value)}") from None


def _target(body: dict[str, Any] | Any) -> tuple[str, bool]:
    """(target id, whether it is a tenant) from DistributionId or DistributionTenantId."""
    distribution = body.get("DistributionId")
    tenant = body.get("DistributionTenantId")
    if (distribution is None) == (tenant is None):
        raise _bad("give exactly one of DistributionId and DistributionTenantId")
    chosen = tenant if tenant is not None else distribution
    if not isinstance(chosen, str):
        raise _bad(f"the target id must be a string, got {json.dumps(chosen)}")
    return chosen, tenant is not None


class _Control:
    """The control API's operations on one emulator."""

    def __init__(self, emulator: CloudFrontEmulator) -> None:
        self.emulator = emulator

    def routes(self) -> dict[tuple[str, str], Callable[[Any, Any], Any]]:
        return {
            ("GET", ""): self.overview,
            ("POST", "distributions"): self.create_distribution,
            ("POST", "distribution-tenants"): self.create_tenant,
            ("POST", "invalidations"): self.create_invalidation,
            ("GET", "invalidations"): self.invalidations,
            ("POST", "complete"): self.complete,
            ("POST", "faults"): self.inject,
            ("POST", "faults/random"): self.inject_random,
            ("DELETE", "faults"): self.clear_faults,
            ("GET", "calls"): self.calls,
            ("POST", "reset"): self.reset,
        }

    def overview(self, _body: Any, _query: Any) -> tuple[int, Any]:
        emulator = self.emulator
        limits = emulator.limits
        return 200, {
            "Endpoint": emulator.endpoint_url,
            "Distributions": list(emulator.distributions),
            "DistributionTenants": list(emulator.distribution_tenants),
            "Limits": {
                "Files": limits.files,
                "Wildcards": limits.wildcards,
                "PathLength": limits.path_length,
                "PathsPerRequest": limits.paths_per_request,
            },
        }

    def create_distribution(self, body: Any, _query: Any) -> tuple[int, Any]:
        return 201, {"Id": self.emulator.create_distribution(_field(body, "Id", str, None))}

    def create_tenant(self, body: Any, _query: Any) -> tuple[int, Any]:
        tenant = self.emulator.create_distribution_tenant(_field(body, "Id", str, None))
        return 201, {"Id": tenant}

    def create_invalidation(self, body: Any, _query: Any) -> tuple[int, Any]:
        target, tenant = _target(body)
        paths = _field(body, "Paths", list, None)
        if paths is None or not all(isinstance(p, str) for p in paths):
            raise _bad("Paths must be a list of strings")
        latency = _field(body, "Latency", (int, float), None)
        try:
            invalidation = self.emulator.create_invalidation(
                target,
                paths,
                caller_reference=_field(body, "CallerReference", str, None),
                tenant=tenant,
                latency=latency,
            )
        except ValueError as exc:  # a path the planner refuses
            raise ApiError(400, "InvalidArgument", str(exc)) from None
        return 201, invalidation_to_json(invalidation, self.emulator.runtime.now())

    def invalidations(self, _body: Any, query: Any) -> tuple[int, Any]:
        target, tenant = _target(query)
        emulator = self.emulator
        found = emulator.tenant_invalidations(target) if tenant else emulator.invalidations(target)
        now = emulator.runtime.now()
        return 200, {"Invalidations": [invalidation_to_json(i, now) for i in found]}

    def complete(self, body: Any, _query: Any) -> tuple[int, Any]:
        self.emulator.complete(_field(body, "Id", str, None))
        return 200, {}

    def inject(self, body: Any, _query: Any) -> tuple[int, Any]:
        try:
            self.emulator.inject(
                _fault_kind(body.get("Kind")),
                operation=_field(body, "Operation", str, None),
                count=_field(body, "Count", int, 1),
                delay=_field(body, "Delay", (int, float), 1.0),
            )
        except ValueError as exc:
            raise _bad(str(exc)) from None
        return 201, {}

    def inject_random(self, body: Any, _query: Any) -> tuple[int, Any]:
        rate = _field(body, "Rate", (int, float), None)
        if rate is None:
            raise _bad("Rate is required: the share of calls (0 to 1) that get a fault")
        kinds = _field(body, "Kinds", list, None)
        operations = _field(body, "Operations", list, None)
        try:
            self.emulator.inject_random(
                rate,
                seed=_field(body, "Seed", int, 0),
                kinds=tuple(FaultKind) if kinds is None else [_fault_kind(k) for k in kinds],
                operations=operations,
                delay=_field(body, "Delay", (int, float), 0.2),
            )
        except ValueError as exc:
            raise _bad(str(exc)) from None
        return 201, {}

    def clear_faults(self, _body: Any, _query: Any) -> tuple[int, Any]:
        self.emulator.clear_faults()
        return 204, None

    def calls(self, _body: Any, _query: Any) -> tuple[int, Any]:
        return 200, {"Calls": [call_to_json(c) for c in self.emulator.calls]}

    def reset(self, _body: Any, _query: Any) -> tuple[int, Any]:
        self.emulator.reset()
        return 200, {}


def _json_response(status: int, data: Any) -> web.Response:
    from aiohttp import web

    if data is None:
        return web.Response(status=status)
    return web.json_response(data, status=status)


def handle_control(
    emulator: CloudFrontEmulator,
) -> Callable[[web.Request, bytes], Awaitable[web.Response]]:
    """The handler of every request under `PREFIX` for ``emulator``."""
    control = _Control(emulator)
    routes = control.routes()
    methods: dict[str, set[str]] = {}
    for method, name in routes:
        methods.setdefault(name, set()).add(method)

    def _route(method: str, name: str) -> Callable[[Any, Any], Any]:
        operation = routes.get((method, name))
        if operation is not None:
            return operation
        if name in methods:
            allowed = ", ".join(sorted(methods[name]))
            raise ApiError(405, "MethodNotAllowed", f"{PREFIX}{name} takes {allowed}")
        raise ApiError(404, "NotFound", f"no control operation {method} {PREFIX}{name}")

    async def handle(request: web.Request, raw: bytes) -> web.Response:
        name = request.path[len(PREFIX) :].strip("/")
        try:
            operation = _route(request.method, name)
            try:
                body = json.loads(raw) if raw.strip() else {}
            except (ValueError, UnicodeDecodeError):
                raise _bad("the body is not JSON") from None
            if not isinstance(body, dict):
                raise _bad("the body must be a JSON object")
            status, data = operation(body, request.query)
        except ApiError as error:
            return _json_response(
                error.status, {"Error": {"Code": error.code, "Message": error.message}}
            )
        return _json_response(status, data)

    return handle
