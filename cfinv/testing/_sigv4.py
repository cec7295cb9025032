"""
Server-side verification of AWS Signature Version 4, as the emulator needs it.

The emulator rebuilds the canonical request from what arrived on the wire and
checks the signature against the configured secret, so a client that signs
wrongly (wrong secret, unsigned, unknown key, a clock more than five minutes
off) fails here as it would at AWS.  Whatever arrives, `verify` answers with
an `AuthFailure` rather than raising.  Pure functions, no I/O.
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

_ALGORITHM = "AWS4-HMAC-SHA256"
_COMPONENTS = ("Credential", "SignedHeaders", "Signature")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# CloudFront refuses a signature made more than 5 minutes before or after its
# own clock ("Signature expired: X is now earlier than Y (Z - 5 min.)").
_WINDOW = dt.timedelta(minutes=5)
_LONGEST_SHOWN = 200  # characters of the Authorization header quoted in a message
# Undecodable bytes arrive as surrogate escapes, U+DC80..U+DCFF for 0x80..0xFF.
_BYTE_ESCAPE = {0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)}
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


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


def _shown(value: str) -> str:
    # A value quoted in a message must survive UTF-8 encoding of the reply: a
    # byte that arrived undecodable (a surrogate escape) is shown as \xNN.
    if len(value) > _LONGEST_SHOWN:
        value = value[:_LONGEST_SHOWN] + "..."
    escaped = "".join(_BYTE_ESCAPE.get(ord(c), c) for c in value)
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


def _named(character: str) -> str:
    byte = _BYTE_ESCAPE.get(ord(character))
    return f"the byte {byte}, not UTF-8" if byte else f"{character!a}"


def _incomplete(message: str) -> AuthFailure:
    return AuthFailure("IncompleteSignature", message)


@attrs.frozen
class _Authorization:
    """An Authorization header that has the right shape (what it claims is checked later)."""

    scope: list[str]  # access key, date, region, service, "aws4_request"
    signed_headers: list[str]
    signature: str


def _parse_authorization(header: str) -> _Authorization | AuthFailure:  # noqa: PLR0911 - one per flaw
    """The Credential, SignedHeaders and Signature of an Authorization header, in any order."""
    if not header.isascii():
        bad = next(c for c in header if not c.isascii())
        return _incomplete(
            f"Authorization header contains a character outside ASCII ({_named(bad)}). "
            f"Authorization={_shown(header)}"
        )
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != _ALGORITHM:
        return _incomplete(
            f"Unsupported AWS 'algorithm': '{algorithm}'; expected '{_ALGORITHM}'. "
            f"Authorization={_shown(header)}"
        )
    found: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if not name and not equals:
            continue  # spaces, or a trailing comma
        if name not in _COMPONENTS or not equals:
            return _incomplete(
                f"Authorization header has an unknown or malformed parameter '{part.strip()}'; "
                "it takes Credential=..., SignedHeaders=... and Signature=... "
                f"Authorization={_shown(header)}"
            )
        if name in found:
            return _incomplete(
                f"Authorization header has the '{name}' parameter more than once. "
                f"Authorization={_shown(header)}"
            )
        found[name] = value
    missing = [name for name in _COMPONENTS if not found.get(name)]
    if missing:
        requires = " ".join(f"Authorization header requires '{n}' parameter." for n in missing)
        return _incomplete(f"{requires} Authorization={_shown(header)}")
    if _SIGNATURE.fullmatch(found["Signature"]) is None:
        return _incomplete(
            f"Signature must be 64 lower-case hexadecimal digits, not '{found['Signature']}'."
        )
    scope = found["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":  # noqa: PLR2004 - key/date/region/service/term
        return _incomplete(f"Invalid credential scope '{found['Credential']}'.")
    return _Authorization(scope, found["SignedHeaders"].split(";"), found["Signature"])


def _signed_at(amz_date: str) -> dt.datetime | None:
    if _AMZ_DATE.fullmatch(amz_date) is None:
        return None
    try:
        return dt.datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(tzinfo=dt.timezone.utc)
    except ValueError:  # the right shape, but no such date: month 13, 30 February
        return None


def _time_failure(amz_date: str, signed_at: dt.datetime, now: dt.datetime) -> AuthFailure | None:
    """CloudFront's refusal of a request signed outside its 5-minute window, if it is."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    # AWS states its times to the second; comparing at that precision keeps the
    # message true (a refused X is always shown earlier than Y, never equal).
    now = now.astimezone(dt.timezone.utc).replace(microsecond=0)
    earliest, latest = now - _WINDOW, now + _WINDOW
    if signed_at < earliest:
        return AuthFailure(
            "SignatureDoesNotMatch",
            f"Signature expired: {amz_date} is now earlier than "
            f"{earliest.strftime(_AMZ_DATE_FORMAT)} ({now.strftime(_AMZ_DATE_FORMAT)} - 5 min.)",
        )
    if signed_at > latest:
        return AuthFailure(
            "SignatureDoesNotMatch",
            f"Signature not yet current: {amz_date} is still later than "
            f"{latest.strftime(_AMZ_DATE_FORMAT)} ({now.strftime(_AMZ_DATE_FORMAT)} + 5 min.)",
        )
    return None


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


def _quote(text: str, safe: str) -> str:
    # Undecodable bytes arrive as surrogates: quote them as the bytes they were.
    return quote(text, safe=safe, errors="surrogateescape")


def _canonical_query(raw_query: str) -> str:
    if not raw_query:
        return ""
    pairs = []
    for pair in raw_query.split("&"):
        key, _, value = pair.partition("=")
        pairs.append((_quote(unquote(key), "-_.~"), _quote(unquote(value), "-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    lines = [
        request.method.upper(),
        _quote(_remove_dot_segments(request.raw_path), "/~"),
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


def _signature(
    request: SignedRequest, signed_headers: list[str], amz_date: str, scope: list[str], secret: str
) -> str | None:
    """The signature the client should have sent; ``None`` if no client could have signed this."""
    try:
        # surrogateescape turns undecodable bytes back into the bytes that were signed;
        # a character no bytes decode to (a lone high surrogate) was never signed.
        canonical = _canonical_request(request, signed_headers)
        digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    except UnicodeEncodeError:
        return None
    string_to_sign = "\n".join([_ALGORITHM, amz_date, "/".join(scope[1:]), digest])
    key = _signing_key(secret, *scope[1:4])
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def verify(  # noqa: PLR0911 - one return per refusal AWS distinguishes
    request: SignedRequest,
    credentials: Mapping[str, str],
    *,
    now: dt.datetime,
    service: str = "cloudfront",
) -> AuthFailure | None:
    """
    Check a request's SigV4 signature.

    Never raises for anything a client can send: a malformed Authorization
    header (not ASCII, a parameter missing or repeated, a bad date) is an
    ``IncompleteSignature`` or ``SignatureDoesNotMatch`` failure.

    Args:
        request: The request as it arrived.
        credentials: Access key id -> secret access key that are valid.
        now: The server's current time (aware; naive is taken as UTC), for
            the 5-minute window.
        service: The signing name the scope must carry.

    Returns:
        ``None`` if the signature is valid, else the AWS error to answer.
    """
    header = (request.headers.get("authorization") or [""])[0]
    if not header:
        return AuthFailure("MissingAuthenticationToken", "Missing Authentication Token")
    parsed = _parse_authorization(header)
    if isinstance(parsed, AuthFailure):
        return parsed
    access_key, date, region, scope_service, _ = parsed.scope
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
    signed_at = _signed_at(amz_date)
    if signed_at is None:
        return _incomplete(
            f"X-Amz-Date header is missing or malformed ('{_shown(amz_date)}'); "
            "it takes the basic ISO 8601 format, e.g. 20190929T171436Z."
        )
    if date != amz_date[:8]:
        return AuthFailure(
            "SignatureDoesNotMatch",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    too_early_or_late = _time_failure(amz_date, signed_at, now)
    if too_early_or_late is not None:
        return too_early_or_late
    expected = _signature(request, parsed.signed_headers, amz_date, parsed.scope, secret)
    if expected is None or not hmac.compare_digest(expected, parsed.signature):
        return AuthFailure("SignatureDoesNotMatch", _MISMATCH)
    return None
