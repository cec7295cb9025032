"""
Typed values for CloudFront invalidations, and their API and AWS CLI forms.

Everything here is an immutable ``attrs`` value.  Models are built from AWS
payloads with named constructors (``Invalidation.from_api(response)``) and
turned back with ``to_api()`` / ``to_json()``; never ``Model(**response)``.
This module does no I/O and imports nothing from botocore.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from typing import TYPE_CHECKING, Any, cast

import attrs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "Invalidation",
    "InvalidationBatch",
    "InvalidationStatus",
    "InvalidationSummary",
    "Limits",
    "Paths",
    "first_non_str",
    "format_timestamp",
    "is_wildcard",
    "parse_timestamp",
]


class InvalidationStatus(str, enum.Enum):
    """
    The status CloudFront reports for an invalidation.

    Parsing is case-insensitive, because moto answers ``COMPLETED`` where
    CloudFront answers ``Completed``.  A status cfinv does not know is kept as
    a pseudo-member named ``UNKNOWN`` whose value is the text as received, so a
    new status from AWS never crashes a deploy.

    >>> InvalidationStatus("COMPLETED") is InvalidationStatus.COMPLETED
    True
    >>> InvalidationStatus("Queued").value
    'Queued'
    """

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"

    @classmethod
    def _missing_(cls, value: object) -> InvalidationStatus | None:
        if not isinstance(value, str):
            return None
        folded = value.casefold()
        for member in cls:
            if member.value.casefold() == folded:
                return member
        # Keep the unknown status rather than crash on it.
        pseudo = str.__new__(cls, value)
        pseudo._name_ = "UNKNOWN"
        pseudo._value_ = value
        return pseudo

    @property
    def is_completed(self) -> bool:
        """Whether the invalidation has finished (only ``Completed`` counts)."""
        return self is InvalidationStatus.COMPLETED

    def __str__(self) -> str:
        return str(self.value)


def first_non_str(items: Iterable[object]) -> tuple[object] | None:
    """
    The first item that is not a ``str``, in a 1-tuple (for error messages), or None if all are.

    The tuple tells a ``None`` item from none at all.
    """
    return next(((item,) for item in items if not isinstance(item, str)), None)


def is_wildcard(path: str) -> bool:
    """Whether ``path`` is a wildcard path (ends in ``*``); tags never are."""
    return path.endswith("*") and not path.startswith("#")


def _positive(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"Limits.{attribute.name} must be a positive integer, got {value!r}"
        raise ValueError(msg)


@attrs.frozen
class Limits:
    """
    CloudFront's invalidation limits, as cfinv plans and schedules against them.

    The defaults are CloudFront's published quotas.  Lower them to leave room
    for other writers on the same distribution; raise them only if AWS raised
    yours.

    Attributes:
        files: File paths (no ``*``) in progress per distribution; also the
            most one batch may carry.  Cache tags count as file paths.
        wildcards: Wildcard paths (ending in ``*``) in progress per
            distribution, counted independently of ``files``.
        path_length: The longest path CloudFront accepts, after URL-encoding.
        paths_per_request: The most paths (files and wildcards together) one
            request may carry, beyond the two limits above; ``None`` (the
            default) for none.  CloudFront documents no such cap; an endpoint
            that enforces one answers ``BatchTooLarge``, and cfinv learns it
            from that answer anyway.  Set it when you know it.
    """

    files: int = attrs.field(default=3000, validator=_positive)
    wildcards: int = attrs.field(default=15, validator=_positive)
    path_length: int = attrs.field(default=4000, validator=_positive)
    paths_per_request: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(_positive)
    )


def _to_str_tuple(items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, str):
        # A bare string would otherwise become a tuple of characters.
        msg = f"Paths needs an iterable of paths, not a single string: {items!r}"
        raise TypeError(msg)
    result = tuple(items)
    try:
        "".join(result)  # one C-level type check of every item; plans hold millions
    except TypeError:
        (bad,) = first_non_str(result) or ("?",)
        msg = f"every path must be a str, got {bad!r} ({type(bad).__name__})"
        raise TypeError(msg) from None
    return result


@attrs.frozen
class Paths:
    """
    The paths of one invalidation batch.

    ``quantity`` is derived from ``items``, so the two can never disagree (the
    cause of CloudFront's ``InconsistentQuantities`` error).  Items are kept as
    given: use `cfinv.plan_paths` to normalise them.

    Attributes:
        items: The paths (and ``#tag`` items), in order.
    """

    items: tuple[str, ...] = attrs.field(converter=_to_str_tuple)

    @property
    def quantity(self) -> int:
        """The number of items, as CloudFront's ``Quantity`` element."""
        return len(self.items)

    @property
    def wildcards(self) -> int:
        """How many items are wildcard paths (end in ``*``)."""
        return sum(1 for item in self.items if is_wildcard(item))

    @property
    def files(self) -> int:
        """How many items are file paths or tags (no trailing ``*``)."""
        return self.quantity - self.wildcards

    def to_api(self) -> dict[str, Any]:
        """Return the ``Paths`` structure botocore takes."""
        return {"Quantity": self.quantity, "Items": list(self.items)}

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Paths:
        """
        Build from botocore's ``Paths`` structure (or the AWS CLI's JSON).

        Args:
            data: A mapping with ``Items`` and optionally ``Quantity``.

        Raises:
            ValueError: ``Quantity`` is given and disagrees with ``Items``.
        """
        items = list(data.get("Items") or ())
        quantity = data.get("Quantity")
        if quantity is not None and int(quantity) != len(items):
            # CloudFront's own wording for the same mistake.
            msg = (
                f"The specified quantity of Paths ({int(quantity)}) does not match "
                f"the actual quantity supplied ({len(items)})."
            )
            raise ValueError(msg)
        return cls(items)


def _nonempty_reference(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        msg = f"caller_reference must be a non-empty string, got {value!r}"
        raise ValueError(msg)


@attrs.frozen
class InvalidationBatch:
    """
    What one CreateInvalidation call sends: the paths and a caller reference.

    Attributes:
        paths: The paths to invalidate.
        caller_reference: A unique value that makes the request idempotent:
            CloudFront answers a repeat with the same reference and paths with
            the invalidation it created the first time.
    """

    paths: Paths
    caller_reference: str = attrs.field(validator=_nonempty_reference)

    def to_api(self) -> dict[str, Any]:
        """Return exactly the dict ``create_invalidation(InvalidationBatch=...)`` takes."""
        return {"Paths": self.paths.to_api(), "CallerReference": self.caller_reference}

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> InvalidationBatch:
        """
        Build from botocore's ``InvalidationBatch`` structure.

        Args:
            data: A mapping with ``Paths`` and ``CallerReference``.

        Raises:
            ValueError: ``Paths.Quantity`` disagrees with ``Paths.Items``.
        """
        return cls(Paths.from_api(data["Paths"]), str(data["CallerReference"]))

    def to_json(self, *, indent: int | None = None) -> str:
        """
        Return the JSON the AWS CLI reads for ``--invalidation-batch``.

        Args:
            indent: Passed to `json.dumps` (``None``: one line).
        """
        return json.dumps(self.to_api(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> InvalidationBatch:
        """
        Parse the JSON the AWS CLI reads for ``--invalidation-batch``.

        Args:
            text: The JSON document.

        Raises:
            ValueError: Not valid JSON, or not an ``InvalidationBatch``.
        """
        try:
            data = json.loads(text)
            return cls.from_api(data)
        except (KeyError, TypeError, AttributeError) as exc:
            msg = (
                "expected an InvalidationBatch like "
                '{"Paths": {"Quantity": 1, "Items": ["/a"]}, "CallerReference": "ref"}, '
                f"got {text[:200]!r}"
            )
            raise ValueError(msg) from exc


_ISO_8601 = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?"
)


def parse_timestamp(value: str | dt.datetime) -> dt.datetime:
    """
    Return an aware UTC ``datetime`` from CloudFront's ISO 8601 text or a datetime.

    A naive datetime is taken to be UTC (botocore always returns aware ones).
    """
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        match = _ISO_8601.fullmatch(value.strip())
        if match is None:
            msg = f"expected an ISO 8601 timestamp like 2019-12-05T18:40:49.413Z, got {value!r}"
            raise ValueError(msg)
        stamp, fraction, zone = match.groups()
        # Python 3.10's fromisoformat takes neither 'Z' nor every fraction length.
        micro = (fraction or "")[:6].ljust(6, "0")
        zone = "+00:00" if zone in {None, "Z", "z"} else zone
        parsed = dt.datetime.fromisoformat(f"{stamp}.{micro}{zone}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def format_timestamp(value: dt.datetime) -> str:
    """Return CloudFront's wire form: ISO 8601 UTC with milliseconds and ``Z``."""
    u = value.astimezone(dt.timezone.utc)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond // 1000:03d}Z"
    )


def _aware(_inst: object, _attr: attrs.Attribute[dt.datetime], value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"create_time must be timezone-aware, got naive {value!r}"
        raise ValueError(msg)


@attrs.frozen
class Invalidation:
    """
    An invalidation as CloudFront reports it.

    Attributes:
        id: CloudFront's identifier, e.g. ``I2J0I21PCUYOIK``.
        status: ``InProgress`` or ``Completed`` (or a status kept as received).
        create_time: When CloudFront accepted it (timezone-aware).
        batch: The paths and caller reference it was created with.
        location: The URL CloudFront returned in the ``Location`` header of
            the create response, if this came from one.
    """

    id: str
    status: InvalidationStatus = attrs.field(converter=InvalidationStatus)
    create_time: dt.datetime = attrs.field(validator=_aware)
    batch: InvalidationBatch
    location: str | None = None

    @property
    def is_completed(self) -> bool:
        """Whether CloudFront reports the invalidation ``Completed``."""
        return self.status.is_completed

    @classmethod
    def from_api(cls, response: Mapping[str, Any]) -> Invalidation:
        """
        Build from a create or get response, with or without its wrapper.

        Accepts botocore's ``create_invalidation`` / ``get_invalidation``
        response (``{"Location": ..., "Invalidation": {...}}``), the bare inner
        ``Invalidation`` structure, and the AWS CLI's JSON output parsed with
        `json.loads` (``CreateTime`` as text).

        Args:
            response: The response, or its ``Invalidation`` part.

        Raises:
            KeyError: A required field is missing.
        """
        inner = response.get("Invalidation", response)
        location = response.get("Location")
        return cls(
            id=str(inner["Id"]),
            status=InvalidationStatus(inner["Status"]),
            create_time=parse_timestamp(inner["CreateTime"]),
            batch=InvalidationBatch.from_api(inner["InvalidationBatch"]),
            location=None if location is None else str(location),
        )

    def to_api(self) -> dict[str, Any]:
        """
        Return the AWS CLI's output shape, ``{"Location": ..., "Invalidation": {...}}``.

        ``CreateTime`` is CloudFront's wire text (ISO 8601 UTC, milliseconds),
        as the AWS CLI prints it.  ``Location`` is left out when unknown, as in
        a ``get-invalidation`` answer.
        """
        inner: dict[str, Any] = {
            "Id": self.id,
            "Status": self.status.value,
            "CreateTime": format_timestamp(self.create_time),
            "InvalidationBatch": self.batch.to_api(),
        }
        outer: dict[str, Any] = {}
        if self.location is not None:
            outer["Location"] = self.location
        outer["Invalidation"] = inner
        return outer

    def to_json(self, *, indent: int | None = 4) -> str:
        """
        Return `to_api` as JSON, indented as the AWS CLI's ``--output json``.

        Args:
            indent: Passed to `json.dumps` (4, as the AWS CLI).
        """
        return json.dumps(self.to_api(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Invalidation:
        """
        Parse the AWS CLI's JSON output of ``create-invalidation`` / ``get-invalidation``.

        Args:
            text: The JSON document.

        Raises:
            ValueError: Not valid JSON, or not an invalidation.
        """
        try:
            return cls.from_api(cast("Mapping[str, Any]", json.loads(text)))
        except (KeyError, TypeError, AttributeError) as exc:
            msg = f"expected the JSON of an Invalidation, got {text[:200]!r}"
            raise ValueError(msg) from exc


@attrs.frozen
class InvalidationSummary:
    """
    One item of a ListInvalidations page: no paths, no caller reference.

    Attributes:
        id: The invalidation's id.
        status: Its status.
        create_time: When it was created (timezone-aware).
    """

    id: str
    status: InvalidationStatus = attrs.field(converter=InvalidationStatus)
    create_time: dt.datetime = attrs.field(validator=_aware)

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> InvalidationSummary:
        """
        Build from an item of botocore's ``InvalidationList.Items``.

        Args:
            item: A mapping with ``Id``, ``Status`` and ``CreateTime``.
        """
        return cls(
            id=str(item["Id"]),
            status=InvalidationStatus(item["Status"]),
            create_time=parse_timestamp(item["CreateTime"]),
        )
