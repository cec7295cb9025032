"""
Specs for the emulator's signature checks and cfinv's words when a signature is refused.

CloudFront accepts a request signed at most 5 minutes before or after its own
clock, and answers 403 ``SignatureDoesNotMatch`` otherwise, in words observed
in the wild (c3-cloudfront-clear-cache#41).  Requests are signed here with
botocore's own SigV4 signer at a time the test chooses (its public steps:
``canonical_request``, ``string_to_sign``, ``signature``), then sent over real
HTTP, or handed to `verify` directly for the edges of the window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import aiohttp
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from cfinv import Invalidator, Runtime, SignatureDoesNotMatch, map_client_error
from cfinv.testing import CloudFrontEmulator
from cfinv.testing._sigv4 import AuthFailure, SignedRequest, verify
from tests.cli_support import run
from tests.conftest import SESSION, client_config

if TYPE_CHECKING:
    from collections.abc import Iterator

NS = {"cf": "http://cloudfront.amazonaws.com/doc/2020-05-31/"}
STAMP = "%Y%m%dT%H%M%SZ"
CREDENTIALS = {"testing": "testing"}
# The moment of the observed refusal: signed 17:13:51, refused at 17:19:36.
OBSERVED_NOW = dt.datetime(2019, 9, 29, 17, 19, 36, tzinfo=dt.timezone.utc)
FIVE_MINUTES = dt.timedelta(minutes=5)
SECOND = dt.timedelta(seconds=1)
US_EAST_1_HINT = (
    "CloudFront requests are signed for us-east-1, whatever region the profile names; "
    "with a custom endpoint, set the region to us-east-1: --region us-east-1, "
    'AWS_DEFAULT_REGION=us-east-1, or region_name="us-east-1" for the client.'
)
CLOCK_HINT = (
    "AWS accepts a request signed at most 5 minutes before or after its own time: "
    "set this host's clock right (e.g. with NTP)."
)
SECRET_HINT = "Check AWS_SECRET_ACCESS_KEY or the profile in use, and the system clock."


def signed_at(
    url: str, at: dt.datetime, *, method: str = "GET", region: str = "us-east-1"
) -> AWSRequest:
    """A request signed by botocore's SigV4 signer as if its clock read ``at``."""
    request = AWSRequest(method=method, url=url, data=b"")
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(b"").hexdigest()
    stamp = at.strftime(STAMP)
    request.headers["X-Amz-Date"] = stamp
    request.context["timestamp"] = stamp  # what add_auth() would take from the real clock
    signer: Any = SigV4Auth(Credentials("testing", "testing"), "cloudfront", region)
    signature = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    signed_headers = signer.signed_headers(signer.headers_to_sign(request))
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return request


def as_arrived(request: AWSRequest) -> SignedRequest:
    """The request as the emulator sees it on the wire (the Host header included)."""
    parts = urlsplit(str(request.url))
    headers = {name.lower(): [str(value)] for name, value in request.headers.items()}
    headers["host"] = [parts.netloc]
    return SignedRequest(
        method=str(request.method),
        raw_path=parts.path,
        raw_query=parts.query,
        headers=headers,
        body=b"",
    )


URL = "https://cloudfront.amazonaws.com/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation"


def with_authorization(
    authorization: str,
    amz_date: str = "20190929T171936Z",
    *,
    path: str = "/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation",
    query: str = "",
    host: str = "cloudfront.amazonaws.com",
) -> SignedRequest:
    """A request carrying exactly this Authorization header (and path, query and Host)."""
    return SignedRequest(
        method="GET",
        raw_path=path,
        raw_query=query,
        headers={"authorization": [authorization], "x-amz-date": [amz_date], "host": [host]},
        body=b"",
    )


# --- the 5-minute window -------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset",
    [-FIVE_MINUTES, -FIVE_MINUTES + SECOND, dt.timedelta(0), FIVE_MINUTES - SECOND, FIVE_MINUTES],
    ids=["5 min behind", "4:59 behind", "on time", "4:59 ahead", "5 min ahead"],
)
def test_signatures_within_five_minutes_either_way_verify(offset: dt.timedelta) -> None:
    """A clock up to 5 minutes off, behind or ahead, is accepted."""
    request = as_arrived(signed_at(URL, OBSERVED_NOW + offset))
    assert verify(request, CREDENTIALS, now=OBSERVED_NOW) is None


def test_a_signature_older_than_five_minutes_has_expired() -> None:
    """5 minutes and 1 second old: CloudFront's observed 'Signature expired' message, exactly."""
    request = as_arrived(signed_at(URL, OBSERVED_NOW - FIVE_MINUTES - SECOND))
    expected = AuthFailure(
        "SignatureDoesNotMatch",
        "Signature expired: 20190929T171435Z is now earlier than 20190929T171436Z "
        "(20190929T171936Z - 5 min.)",
    )
    assert expected == verify(request, CREDENTIALS, now=OBSERVED_NOW)


def test_the_observed_expired_signature_reads_as_cloudfront_wrote_it() -> None:
    """The refusal of c3-cloudfront-clear-cache#41, reproduced word for word."""
    request = as_arrived(
        signed_at(URL, dt.datetime(2019, 9, 29, 17, 13, 51, tzinfo=dt.timezone.utc))
    )
    failure = verify(request, CREDENTIALS, now=OBSERVED_NOW)
    assert failure is not None
    assert (
        "Signature expired: 20190929T171351Z is now earlier than 20190929T171436Z "
        "(20190929T171936Z - 5 min.)"
    ) == failure.message


def test_a_signature_more_than_five_minutes_ahead_is_not_yet_current() -> None:
    """A clock 5 minutes and 1 second ahead is 'not yet current', not 'expired'."""
    request = as_arrived(signed_at(URL, OBSERVED_NOW + FIVE_MINUTES + SECOND))
    expected = AuthFailure(
        "SignatureDoesNotMatch",
        "Signature not yet current: 20190929T172437Z is still later than 20190929T172436Z "
        "(20190929T171936Z + 5 min.)",
    )
    assert expected == verify(request, CREDENTIALS, now=OBSERVED_NOW)


def test_the_window_is_counted_in_whole_seconds() -> None:
    """Signed exactly 5 minutes before the server's second: accepted, whatever its fraction."""
    request = as_arrived(signed_at(URL, OBSERVED_NOW - FIVE_MINUTES))
    assert verify(request, CREDENTIALS, now=OBSERVED_NOW.replace(microsecond=999_999)) is None


# --- malformed Authorization headers ---------------------------------------------------------

SCOPE = "testing/20190929/us-east-1/cloudfront/aws4_request"
SIGNATURE = "0f" * 32
UNDECODABLE_SCOPE = SCOPE.replace("cloudfront", "cloud\udcfffront")  # the byte 0xFF, as aiohttp


@pytest.mark.parametrize(
    ("authorization", "amz_date", "code", "message"),
    [
        (
            (
                f"AWS4-HMAC-SHA256 Credential={UNDECODABLE_SCOPE}, "
                f"SignedHeaders=host, Signature={SIGNATURE}"
            ),
            "20190929T171936Z",
            "IncompleteSignature",
            (
                r"Authorization header contains a character outside ASCII "
                r"\(the byte \\xff, not UTF-8\)\. Authorization=.*cloud\\xfffront"
            ),
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host",
            "20190929T171936Z",
            "IncompleteSignature",
            r"Authorization header requires 'Signature' parameter\. Authorization=AWS4-HMAC",
        ),
        (
            (
                f"AWS4-HMAC-SHA256 Credential={SCOPE}, Credential={SCOPE}, "
                f"SignedHeaders=host, Signature={SIGNATURE}"
            ),
            "20190929T171936Z",
            "IncompleteSignature",
            r"Authorization header has the 'Credential' parameter more than once\.",
        ),
        (
            f"AWS4-HMAC-SHA1 Credential={SCOPE}, SignedHeaders=host, Signature={SIGNATURE}",
            "20190929T171936Z",
            "IncompleteSignature",
            r"Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host, Signature=XYZ",
            "20190929T171936Z",
            "IncompleteSignature",
            r"Signature must be 64 lower-case hexadecimal digits, not 'XYZ'\.",
        ),
        (
            (
                f"AWS4-HMAC-SHA256 Credential=testing/20190929/us-east-1, "
                f"SignedHeaders=host, Signature={SIGNATURE}"
            ),
            "20190929T171936Z",
            "IncompleteSignature",
            r"Invalid credential scope 'testing/20190929/us-east-1'\.",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host, Signature={SIGNATURE}",
            "2019-09-29T17:19:36Z",
            "IncompleteSignature",
            r"X-Amz-Date header is missing or malformed \('2019-09-29T17:19:36Z'\)",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host, Signature={SIGNATURE}",
            "20190931T171936Z",  # 31 September
            "IncompleteSignature",
            r"X-Amz-Date header is missing or malformed \('20190931T171936Z'\)",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host, Signature={SIGNATURE}",
            "20190930T000000Z",
            "SignatureDoesNotMatch",
            (
                r"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                r"from HTTP: '20190929' != '20190930', from '20190930T000000Z'\."
            ),
        ),
    ],
    ids=[
        "byte 0xff in the scope",
        "no Signature",
        "Credential twice",
        "another algorithm",
        "signature not hex",
        "scope of three parts",
        "extended ISO date",
        "no such day",
        "scope of another day",
    ],
)
def test_malformed_authorization_is_refused_by_name(
    authorization: str, amz_date: str, code: str, message: str
) -> None:
    """Each flaw gets a 403 code and a message that names it, never an exception."""
    failure = verify(with_authorization(authorization, amz_date), CREDENTIALS, now=OBSERVED_NOW)
    assert failure is not None
    assert code == failure.code
    assert re.search(message, failure.message), failure.message
    failure.message.encode()  # goes into a UTF-8 reply as it is


ANY_TEXT = st.text(st.characters())  # surrogates too: undecodable bytes arrive as those


@given(authorization=ANY_TEXT, amz_date=ANY_TEXT)
def test_verify_answers_any_header_text(authorization: str, amz_date: str) -> None:
    """Whatever the headers hold, verify() refuses with a message a UTF-8 reply can carry."""
    failure = verify(with_authorization(authorization, amz_date), CREDENTIALS, now=OBSERVED_NOW)
    assert isinstance(failure, AuthFailure)
    failure.message.encode()


@given(
    scope=st.lists(ANY_TEXT, min_size=1, max_size=6).map("/".join),
    signed_headers=ANY_TEXT,
    order=st.permutations(["Credential", "SignedHeaders", "Signature"]),
    path=ANY_TEXT,
    query=ANY_TEXT,
    host=ANY_TEXT,
)
def test_verify_answers_any_well_shaped_header(  # noqa: PLR0917 - one argument per fuzzed part
    scope: str, signed_headers: str, order: list[str], path: str, query: str, host: str
) -> None:
    """A header of the right shape with any scope, headers, path or query never raises either."""
    values = {"Credential": scope, "SignedHeaders": signed_headers, "Signature": SIGNATURE}
    authorization = "AWS4-HMAC-SHA256 " + ", ".join(f"{name}={values[name]}" for name in order)
    request = with_authorization(authorization, path=path, query=query, host=host)
    failure = verify(request, CREDENTIALS, now=OBSERVED_NOW)
    assert isinstance(failure, AuthFailure)
    failure.message.encode()


@given(path=ANY_TEXT, query=ANY_TEXT, host=ANY_TEXT)
def test_verify_answers_any_path_query_and_header_values(path: str, query: str, host: str) -> None:
    """A valid scope with any path, query or Host: the signature is checked, and fails."""
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date, Signature={SIGNATURE}"
    )
    request = with_authorization(authorization, path=path, query=query, host=host)
    failure = verify(request, CREDENTIALS, now=OBSERVED_NOW)
    assert failure is not None
    assert "SignatureDoesNotMatch" == failure.code
    assert failure.message.startswith("The request signature we calculated does not match")


# --- over HTTP --------------------------------------------------------------------------------


async def send(request: AWSRequest) -> tuple[int, str, str]:
    """Send a signed request as it is: (status, Error.Code, Error.Message), or the body if 200."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            str(request.method), str(request.url), headers=dict(request.headers)
        ) as response,
    ):
        body = await response.text()
    if response.status == 200:
        return response.status, "", body
    error = ET.fromstring(body).find("cf:Error", NS)  # noqa: S314 - the emulator's own reply
    assert error is not None, body
    return response.status, error.findtext("cf:Code", "", NS), error.findtext("cf:Message", "", NS)


def utc(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, STAMP).replace(tzinfo=dt.timezone.utc)


def whole_second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


@pytest.mark.parametrize(
    ("skew", "pattern", "sign"),
    [
        (
            -dt.timedelta(minutes=6),
            r"Signature expired: (\w+) is now earlier than (\w+) \((\w+) - 5 min\.\)",
            -1,
        ),
        (
            dt.timedelta(minutes=6),
            r"Signature not yet current: (\w+) is still later than (\w+) \((\w+) \+ 5 min\.\)",
            1,
        ),
    ],
    ids=["6 min behind", "6 min ahead"],
)
async def test_a_clock_six_minutes_off_is_refused_as_cloudfront_does(
    emulator: CloudFrontEmulator, skew: dt.timedelta, pattern: str, sign: int
) -> None:
    """A host clock 6 minutes off (the emulator once allowed 15) gets CloudFront's 403."""
    dist = emulator.create_distribution()
    url = f"{emulator.endpoint_url}/2020-05-31/distribution/{dist}/invalidation"
    before = whole_second(dt.datetime.now(dt.timezone.utc))
    request = signed_at(url, before + skew)
    status, code, message = await send(request)
    after = dt.datetime.now(dt.timezone.utc)
    assert (403, "SignatureDoesNotMatch") == (status, code)
    match = re.fullmatch(pattern, message)
    assert match is not None, message
    signed, bound, server_now = match.groups()
    assert request.headers["X-Amz-Date"] == signed
    assert before <= utc(server_now) <= after
    assert utc(server_now) + sign * FIVE_MINUTES == utc(bound)
    assert CLOCK_HINT == SignatureDoesNotMatch(message).hint


@pytest.mark.parametrize(
    "skew", [-dt.timedelta(minutes=4), dt.timedelta(minutes=4)], ids=["behind", "ahead"]
)
async def test_a_clock_four_minutes_off_is_accepted(
    emulator: CloudFrontEmulator, skew: dt.timedelta
) -> None:
    """Within the window either way, the request is served."""
    dist = emulator.create_distribution()
    url = f"{emulator.endpoint_url}/2020-05-31/distribution/{dist}/invalidation"
    status, _, body = await send(signed_at(url, dt.datetime.now(dt.timezone.utc) + skew))
    assert 200 == status, body


@pytest.fixture
def threaded_emu() -> Iterator[CloudFrontEmulator]:
    """An emulator in its own thread, for blocking clients."""
    with CloudFrontEmulator(rate_limits=None, runtime=Runtime.seeded(13)) as emulator:
        yield emulator


def test_a_byte_outside_utf8_in_the_scope_gets_an_xml_403(
    threaded_emu: CloudFrontEmulator,
) -> None:
    """The byte 0xFF in the credential scope: CloudFront-style XML naming it, not a 500."""
    dist = threaded_emu.create_distribution()
    stamp = dt.datetime.now(dt.timezone.utc).strftime(STAMP)
    connection = http.client.HTTPConnection(urlsplit(threaded_emu.endpoint_url).netloc, timeout=10)
    try:
        connection.putrequest("GET", f"/2020-05-31/distribution/{dist}/invalidation")
        connection.putheader("X-Amz-Date", stamp)
        connection.putheader(
            "Authorization",
            f"AWS4-HMAC-SHA256 Credential=testing/{stamp[:8]}/us-east-1/cloud".encode()
            + b"\xfffront/aws4_request, SignedHeaders=host;x-amz-date, Signature="
            + SIGNATURE.encode(),
        )
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert 403 == response.status
    assert (response.getheader("Content-Type") or "").startswith("text/xml")
    error = ET.fromstring(body).find("cf:Error", NS)  # noqa: S314 - the emulator's own reply
    assert error is not None, body
    assert "IncompleteSignature" == error.findtext("cf:Code", "", NS)
    assert (
        "Authorization header contains a character outside ASCII (the byte \\xff, not UTF-8)."
        in error.findtext("cf:Message", "", NS)
    )


# --- cfinv's hint -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("Credential should be scoped to a valid region, not 'eu-west-1'.", US_EAST_1_HINT),
        (
            (
                "Signature expired: 20190929T171351Z is now earlier than 20190929T171436Z "
                "(20190929T171936Z - 5 min.)"
            ),
            CLOCK_HINT,
        ),
        (
            (
                "Signature not yet current: 20190929T172437Z is still later than 20190929T172436Z "
                "(20190929T171936Z + 5 min.)"
            ),
            CLOCK_HINT,
        ),
        ("The request signature we calculated does not match ...", SECRET_HINT),
    ],
    ids=["region", "expired", "not yet current", "mismatch"],
)
def test_the_signature_hint_follows_the_message(message: str, hint: str) -> None:
    """The region gets us-east-1, the window gets the clock, anything else the secret key."""
    error = SignatureDoesNotMatch(message, operation="ListInvalidations")
    assert hint == error.hint
    assert str(error).endswith(f"{message} {hint}")


async def test_the_library_says_cloudfront_is_signed_for_us_east_1(
    emulator: CloudFrontEmulator,
) -> None:
    """A client for eu-west-1 with the endpoint set: the error says how to sign for us-east-1."""
    dist = emulator.create_distribution()
    kwargs = {**emulator.client_kwargs(), "region_name": "eu-west-1"}
    async with SESSION.create_client("cloudfront", config=client_config(), **kwargs) as cf:
        with pytest.raises(ClientError) as info:
            await cf.list_invalidations(DistributionId=dist)
    error = map_client_error(info.value)
    assert isinstance(error, SignatureDoesNotMatch)
    assert US_EAST_1_HINT == error.hint
    assert str(error).endswith(f"not 'eu-west-1'. {US_EAST_1_HINT}")


async def test_the_invalidator_says_cloudfront_is_signed_for_us_east_1(
    emulator: CloudFrontEmulator,
) -> None:
    """Invalidator(region_name='eu-west-1', endpoint_url=...) fails with the us-east-1 hint."""
    dist = emulator.create_distribution()
    async with Invalidator(
        dist, endpoint_url=emulator.endpoint_url, region_name="eu-west-1", runtime=emulator.runtime
    ) as invalidator:
        with pytest.raises(SignatureDoesNotMatch) as info:
            await invalidator.invalidate(["/a"])
    assert US_EAST_1_HINT == info.value.hint
    assert 'region_name="us-east-1"' in str(info.value)
    assert () == emulator.invalidations(dist)


def test_the_command_says_cloudfront_is_signed_for_us_east_1(
    capsys: pytest.CaptureFixture[str], threaded_emu: CloudFrontEmulator
) -> None:
    """`cfinv --region eu-west-1 ...`: the AWS CLI's line, then how to sign for us-east-1."""
    dist = threaded_emu.create_distribution()
    code, _, err = run(
        capsys, "--region", "eu-west-1", "list-invalidations", "--distribution-id", dist,
        emu=threaded_emu,
    )  # fmt: skip
    assert (254, err) == (
        code,
        (
            "\nAn error occurred (SignatureDoesNotMatch) when calling the ListInvalidations "
            "operation: Credential should be scoped to a valid region, not 'eu-west-1'.\n"
            f"{US_EAST_1_HINT}\n"
        ),
    )


def test_cfinv_invalidate_says_cloudfront_is_signed_for_us_east_1(
    capsys: pytest.CaptureFixture[str],
    threaded_emu: CloudFrontEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`cfinv invalidate` with AWS_DEFAULT_REGION=eu-west-1: the same hint after the error."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    dist = threaded_emu.create_distribution()
    code, _, err = run(capsys, "invalidate", "--distribution-id", dist, "/a", emu=threaded_emu)
    assert 254 == code
    assert "Credential should be scoped to a valid region, not 'eu-west-1'." in err
    assert f"\n{US_EAST_1_HINT}\n" in err


def test_a_wrong_secret_keeps_the_secret_key_hint(
    capsys: pytest.CaptureFixture[str],
    threaded_emu: CloudFrontEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong secret key (signed for us-east-1): the hint names the secret key and the clock."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    dist = threaded_emu.create_distribution()
    code, _, err = run(capsys, "list-invalidations", "--distribution-id", dist, emu=threaded_emu)
    assert 254 == code
    assert err.endswith(f"Consult the service documentation for details.\n{SECRET_HINT}\n")
