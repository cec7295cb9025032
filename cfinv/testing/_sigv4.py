"""
Server-side verification of AWS Signature Version 4, as the emulator needs it.

The emulator rebuilds the canonical request from what arrived on the wire and
checks the signature against the configured secret, so a client that signs
wrongly (wrong secret, unsigned, unknown key) fails here as it would at AWS.
Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["AuthFailure", "SignedRequest", "verify"]

_AUTH_HEADER = re.compile(
    r"AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\s*"
)
# AWS rejects a signature made more than 15 minutes away from its own clock.
_MAX_SKEW = dt.timedelta(minutes=15)


@attrs.frozen
class AuthFailure:
    """Why a request's signature was refused: the AWS error code and message."""

    code: str
    message: str


@attrs.frozen
class SignedRequest:
    """What verification needs from an HTTP request, exactly as it arrived."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, list[str]]  # lower-case name -> every value received
    body: bytes


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4, as botocore applies it before signing.
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
        else:
            output.append(segment)
    result = "/".join(output)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    if path.endswith(("/.", "/..")):
        result += "/"
    return result or "/"


def _canonical_query(raw_query: str) -> str:
    if not raw_query:
        return ""
    pairs = []
    for pair in raw_query.split("&"):
        key, _, value = pair.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    lines = [
        request.method.upper(),
        quote(_remove_dot_segments(request.raw_path), safe="/~"),
        _canonical_query(request.raw_query),
    ]
    lines.extend(
        f"{name}:{','.join(' '.join(v.split()) for v in request.headers.get(name, []))}"
        for name in signed_headers
    )
    lines.extend(("", ";".join(signed_headers)))
    declared = request.headers.get("x-amz-content-sha256")
    lines.append(declared[0] if declared else hashlib.sha256(request.body).hexdigest())
    return "\n".join(lines)


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def verify(  # noqa: PLR0911 - one return per refusal AWS distinguishes
    request: SignedRequest,
    credentials: Mapping[str, str],
    *,
    now: dt.datetime,
    service: str = "cloudfront",
) -> AuthFailure | None:
    """
    Check a request's SigV4 signature.

    Args:
        request: The request as it arrived.
        credentials: Access key id -> secret access key that are valid.
        now: The server's current time, for the clock-skew check.
        service: The signing name the scope must carry.

    Returns:
        ``None`` if the signature is valid, else the AWS error to answer.
    """
    header = (request.headers.get("authorization") or [""])[0]
    if not header:
        return AuthFailure("MissingAuthenticationToken", "Missing Authentication Token")
    match = _AUTH_HEADER.fullmatch(header.strip())
    if match is None:
        return AuthFailure(
            "IncompleteSignature",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "in AWS4-HMAC-SHA256 format.",
        )
    scope = match["credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":  # noqa: PLR2004 - key/date/region/service/term
        return AuthFailure(
            "IncompleteSignature", f"Invalid credential scope {match['credential']!r}."
        )
    access_key, date, region, scope_service, _ = scope
    secret = credentials.get(access_key)
    if secret is None:
        return AuthFailure(
            "InvalidClientTokenId", "The security token included in the request is invalid."
        )
    if scope_service != service:
        return AuthFailure(
            "SignatureDoesNotMatch",
            f"Credential should be scoped to correct service: '{service}'.",
        )
    if region != "us-east-1":  # CloudFront is global: always signed for us-east-1
        return AuthFailure(
            "SignatureDoesNotMatch",
            f"Credential should be scoped to a valid region, not '{region}'.",
        )
    amz_date = (request.headers.get("x-amz-date") or [""])[0]
    try:
        signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return AuthFailure("IncompleteSignature", "X-Amz-Date header is missing or malformed.")
    if abs(now - signed_at) > _MAX_SKEW:
        return AuthFailure(
            "SignatureDoesNotMatch",
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - _MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')}",
        )
    signed_headers = match["signed"].split(";")
    canonical = _canonical_request(request, signed_headers)
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            "/".join(scope[1:]),
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _signing_key(secret, date, region, scope_service)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        return AuthFailure(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
        )
    return None
