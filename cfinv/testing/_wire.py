"""
CloudFront's REST-XML wire format, as the emulator reads and writes it.

Pure functions: parse an ``InvalidationBatch`` request body, render
``Invalidation``, ``InvalidationList`` and ``ErrorResponse`` documents.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import attrs

from cfinv.models import format_timestamp

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

__all__ = [
    "NAMESPACE",
    "BatchRequest",
    "MalformedRequestError",
    "error_xml",
    "invalidation_list_xml",
    "invalidation_xml",
    "parse_batch",
]

NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
_DECLARATION = '<?xml version="1.0"?>\n'


class MalformedRequestError(ValueError):
    """The request body is not a well-formed ``InvalidationBatch``."""


@attrs.frozen
class BatchRequest:
    """An ``InvalidationBatch`` as received: Quantity is kept as sent, not derived."""

    quantity: int
    items: tuple[str, ...]
    caller_reference: str


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    # Any namespace (or none) and any element order are accepted.
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def parse_batch(body: bytes) -> BatchRequest:
    """
    Parse a CreateInvalidation request body.

    Raises:
        MalformedRequestError: Not XML, or not an ``InvalidationBatch``.
    """
    try:
        root = ET.fromstring(body)  # noqa: S314 - a local test server parsing its own clients
    except ET.ParseError as exc:
        msg = f"The XML document is malformed: {exc}"
        raise MalformedRequestError(msg) from exc
    if _local(root.tag) != "InvalidationBatch":
        msg = f"Expected an InvalidationBatch document, got <{_local(root.tag)}>."
        raise MalformedRequestError(msg)
    paths = _child(root, "Paths")
    reference = _child(root, "CallerReference")
    if paths is None or reference is None or not (reference.text or "").strip():
        msg = "InvalidationBatch needs Paths and a non-empty CallerReference."
        raise MalformedRequestError(msg)
    quantity_element = _child(paths, "Quantity")
    try:
        quantity = int((quantity_element.text or "") if quantity_element is not None else "")
    except ValueError as exc:
        msg = "Paths.Quantity must be an integer."
        raise MalformedRequestError(msg) from exc
    items_element = _child(paths, "Items")
    items = tuple(
        (child.text or "")
        for child in (items_element if items_element is not None else ())
        if _local(child.tag) == "Path"
    )
    return BatchRequest(quantity=quantity, items=items, caller_reference=reference.text or "")


def _batch_xml(items: Sequence[str], caller_reference: str) -> str:
    paths = "".join(f"<Path>{escape(item)}</Path>" for item in items)
    items_xml = f"<Items>{paths}</Items>" if items else ""
    return (
        f"<InvalidationBatch><Paths><Quantity>{len(items)}</Quantity>{items_xml}</Paths>"
        f"<CallerReference>{escape(caller_reference)}</CallerReference></InvalidationBatch>"
    )


def invalidation_xml(
    invalidation_id: str,
    status: str,
    create_time: dt.datetime,
    items: Sequence[str],
    caller_reference: str,
) -> str:
    """Render the ``Invalidation`` document of a create or get response."""
    return (
        f'{_DECLARATION}<Invalidation xmlns="{NAMESPACE}"><Id>{escape(invalidation_id)}</Id>'
        f"<Status>{status}</Status><CreateTime>{format_timestamp(create_time)}</CreateTime>"
        f"{_batch_xml(items, caller_reference)}</Invalidation>"
    )


def invalidation_list_xml(
    *,
    marker: str,
    max_items: int,
    summaries: Sequence[tuple[str, dt.datetime, str]],
    next_marker: str | None,
) -> str:
    """Render a ``ListInvalidations`` page; ``summaries`` are (id, create time, status)."""
    items = "".join(
        f"<InvalidationSummary><Id>{escape(i)}</Id><CreateTime>{format_timestamp(t)}</CreateTime>"
        f"<Status>{s}</Status></InvalidationSummary>"
        for i, t, s in summaries
    )
    truncated = next_marker is not None
    return (
        f'{_DECLARATION}<InvalidationList xmlns="{NAMESPACE}">'
        f"<Marker>{escape(marker)}</Marker>"
        + (f"<NextMarker>{escape(next_marker)}</NextMarker>" if next_marker is not None else "")
        + f"<MaxItems>{max_items}</MaxItems><IsTruncated>{str(truncated).lower()}</IsTruncated>"
        f"<Quantity>{len(summaries)}</Quantity>"
        + (f"<Items>{items}</Items>" if summaries else "")
        + "</InvalidationList>"
    )


def error_xml(code: str, message: str, request_id: str, *, sender: bool = True) -> str:
    """Render CloudFront's ``ErrorResponse`` document."""
    kind = "Sender" if sender else "Receiver"
    return (
        f'{_DECLARATION}<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    )
