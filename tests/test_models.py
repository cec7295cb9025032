"""Specs for the attrs models and their API / AWS CLI forms."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfinv import Invalidation, InvalidationBatch, InvalidationStatus, Limits, Paths
from cfinv.models import format_timestamp, parse_timestamp

UTC = dt.timezone.utc

# The AWS CLI documentation's example output of create-invalidation.
CLI_EXAMPLE = """{
    "Location": "https://cloudfront.amazonaws.com/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation/I1JLWSDAP8FU89",
    "Invalidation": {
        "Id": "I1JLWSDAP8FU89",
        "Status": "InProgress",
        "CreateTime": "2019-12-05T18:40:49.413Z",
        "InvalidationBatch": {
            "Paths": {
                "Quantity": 2,
                "Items": [
                    "/example-path/example-file2.png",
                    "/example-path/example-file.jpg"
                ]
            },
            "CallerReference": "cli-1575571249-670203"
        }
    }
}"""


def test_batch_to_api_is_what_botocore_takes() -> None:
    """to_api() gives exactly create_invalidation's InvalidationBatch parameter."""
    batch = InvalidationBatch(Paths(["/a", "/b/*"]), "ref-1")
    assert {
        "Paths": {"Quantity": 2, "Items": ["/a", "/b/*"]},
        "CallerReference": "ref-1",
    } == batch.to_api()


def test_batch_json_round_trips_the_cli_form() -> None:
    """The JSON the AWS CLI reads for --invalidation-batch parses and prints back."""
    text = '{"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": "r"}'
    batch = InvalidationBatch.from_json(text)
    assert batch == InvalidationBatch(Paths(["/x"]), "r")
    assert json.loads(text) == json.loads(batch.to_json())


def test_batch_json_without_quantity_is_accepted() -> None:
    """Quantity is derived, so a JSON batch may leave it out."""
    batch = InvalidationBatch.from_json(
        '{"Paths": {"Items": ["/x", "/y"]}, "CallerReference": "r"}'
    )
    assert batch.paths.quantity == 2


def test_batch_json_with_inconsistent_quantity_is_rejected() -> None:
    """A Quantity that disagrees with Items gets CloudFront's own wording."""
    with pytest.raises(ValueError, match=r"quantity of Paths \(3\) does not match .* \(1\)"):
        InvalidationBatch.from_json(
            '{"Paths": {"Quantity": 3, "Items": ["/x"]}, "CallerReference": "r"}'
        )


def test_batch_json_of_the_wrong_shape_names_it() -> None:
    """A JSON that is not an InvalidationBatch gets an error that shows it."""
    with pytest.raises(ValueError, match="Pathz"):
        InvalidationBatch.from_json('{"Pathz": []}')


def test_empty_caller_reference_is_rejected() -> None:
    """CloudFront needs a caller reference; an empty one is a clear error."""
    with pytest.raises(ValueError, match="caller_reference"):
        InvalidationBatch(Paths(["/a"]), "")


def test_paths_rejects_a_bare_string() -> None:
    """Paths("/a") would otherwise become one path per character."""
    with pytest.raises(TypeError, match="single string"):
        Paths("/abc")


def test_paths_rejects_non_strings() -> None:
    """Every item must be a string, named when it is not."""
    with pytest.raises(TypeError, match="b'/a'"):
        Paths([b"/a"])  # type: ignore[list-item]


def test_invalidation_from_cli_output_round_trips() -> None:
    """The AWS CLI's documented output parses and prints back identically."""
    inv = Invalidation.from_json(CLI_EXAMPLE)
    assert inv.id == "I1JLWSDAP8FU89"
    assert inv.status is InvalidationStatus.IN_PROGRESS
    assert inv.create_time == dt.datetime(2019, 12, 5, 18, 40, 49, 413000, tzinfo=UTC)
    assert inv.batch.caller_reference == "cli-1575571249-670203"
    assert inv.location is not None
    assert inv.location.endswith("/invalidation/I1JLWSDAP8FU89")
    assert json.loads(CLI_EXAMPLE) == json.loads(inv.to_json())
    assert Invalidation.from_json(inv.to_json()) == inv


def test_invalidation_from_botocore_response() -> None:
    """A botocore get response (datetime CreateTime, no Location) parses."""
    response = {
        "ResponseMetadata": {"HTTPStatusCode": 200},
        "Invalidation": {
            "Id": "I2J0I21PCUYOIK",
            "Status": "COMPLETED",
            "CreateTime": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "InvalidationBatch": {
                "Paths": {"Quantity": 1, "Items": ["/a"]},
                "CallerReference": "x",
            },
        },
    }
    inv = Invalidation.from_api(response)
    assert inv.status is InvalidationStatus.COMPLETED
    assert inv.is_completed
    assert inv.location is None
    assert "Location" not in inv.to_api()
    # The bare inner structure works too.
    assert Invalidation.from_api(response["Invalidation"]) == inv  # type: ignore[arg-type]


def test_invalidation_needs_an_aware_create_time() -> None:
    """A naive datetime is refused: create_time is always timezone-aware."""
    naive = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="timezone-aware"):
        Invalidation("I1", "InProgress", naive, InvalidationBatch(Paths(["/a"]), "r"))


@pytest.mark.parametrize("text", ["Completed", "COMPLETED", "completed"])
def test_status_parsing_is_case_insensitive(text: str) -> None:
    """Moto answers COMPLETED; CloudFront answers Completed; both mean completed."""
    assert InvalidationStatus(text) is InvalidationStatus.COMPLETED


def test_unknown_status_is_kept() -> None:
    """A status cfinv does not know is kept, not crashed on, and is not completed."""
    status = InvalidationStatus("Queued")
    assert status.value == "Queued"
    assert status.name == "UNKNOWN"
    assert not status.is_completed
    assert str(status) == "Queued"


def test_limits_defaults_and_validation() -> None:
    """Defaults are CloudFront's quotas; nonsense limits are refused with the value."""
    assert (3000, 15, 4000, None) == attrs.astuple(Limits())
    with pytest.raises(ValueError, match=r"wildcards .* got 0"):
        Limits(wildcards=0)
    with pytest.raises(ValueError, match=r"paths_per_request .* got 0"):
        Limits(paths_per_request=0)


def test_models_are_frozen() -> None:
    """Values cannot be changed after creation."""
    paths = Paths(["/a"])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        paths.items = ("/b",)  # type: ignore[misc]


@given(st.datetimes(timezones=st.just(UTC)))
def test_timestamps_round_trip_to_the_millisecond(moment: dt.datetime) -> None:
    """CloudFront's wire form keeps milliseconds; parsing it gives them back."""
    truncated = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = format_timestamp(moment)
    assert text.endswith("Z")
    assert truncated == parse_timestamp(text)
