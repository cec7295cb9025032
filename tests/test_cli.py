"""Specs for the `cfinv` command, run in-process against the emulator (in a thread)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cfinv import Runtime
from cfinv.cli import main
from cfinv.cli._errors import UsageError
from cfinv.cli._params import INVALIDATION_BATCH, parse_shorthand
from cfinv.testing import CloudFrontEmulator
from tests.cli_support import run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator whose invalidations stay InProgress (statuses do not change under us)."""
    with CloudFrontEmulator(latency=600, rate_limits=None, runtime=Runtime.seeded(9)) as emulator:
        yield emulator


@pytest.fixture
def fast_emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator whose invalidations complete as they are created (no poll waited for)."""
    with CloudFrontEmulator(latency=0, rate_limits=None, runtime=Runtime.seeded(9)) as emulator:
        yield emulator


# --- create-invalidation ------------------------------------------------------------------


def test_create_with_paths_prints_the_aws_cli_output(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """--paths: sent as given, cli-<epoch>-<n> reference, the AWS CLI's JSON."""
    dist = emu.create_distribution()
    code, out, _ = run(
        capsys, "create-invalidation", "--distribution-id", dist, "--paths", "/a", "/b/*", emu=emu
    )
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["Location", "Invalidation"]
    inv = data["Invalidation"]
    assert inv["InvalidationBatch"]["Paths"] == {"Quantity": 2, "Items": ["/a", "/b/*"]}
    assert re.fullmatch(r"cli-\d{10}-\d{1,7}", inv["InvalidationBatch"]["CallerReference"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", inv["CreateTime"])
    assert out.startswith('{\n    "Location"')


@pytest.mark.parametrize(
    "batch",
    [
        "Paths={Quantity=2,Items=[/a,/b]},CallerReference=ref-1",
        "Paths={Quantity=2,Items=/a,/b},CallerReference=ref-1",
        '{"Paths": {"Quantity": 2, "Items": ["/a", "/b"]}, "CallerReference": "ref-1"}',
    ],
)
def test_invalidation_batch_shorthand_and_json(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, batch: str
) -> None:
    """--invalidation-batch takes the AWS CLI's shorthand and JSON."""
    dist = emu.create_distribution()
    code, out, _ = run(
        capsys,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        batch,
        emu=emu,
    )
    assert code == 0
    sent = json.loads(out)["Invalidation"]["InvalidationBatch"]
    assert sent == {"Paths": {"Quantity": 2, "Items": ["/a", "/b"]}, "CallerReference": "ref-1"}


def test_invalidation_batch_from_a_file(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, tmp_path: Path
) -> None:
    """file:// reads the parameter from a file."""
    dist = emu.create_distribution()
    path = tmp_path / "batch.json"
    path.write_text('{"Paths": {"Quantity": 1, "Items": ["/f"]}, "CallerReference": "file"}')
    code, out, _ = run(
        capsys,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        f"file://{path}",
        emu=emu,
    )
    assert code == 0
    assert json.loads(out)["Invalidation"]["InvalidationBatch"]["CallerReference"] == "file"


def test_requests_are_sent_as_given(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """No normalisation: an unencoded space reaches CloudFront, which refuses it (254)."""
    dist = emu.create_distribution()
    code, _, err = run(
        capsys, "create-invalidation", "--distribution-id", dist, "--paths", "/a b", emu=emu
    )
    assert code == 254
    assert (
        "An error occurred (InvalidArgument) when calling the CreateInvalidation operation" in err
    )


def test_inconsistent_quantity_is_sent_as_given(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """Even a wrong Quantity goes out unchanged, as with the AWS CLI."""
    dist = emu.create_distribution()
    code, _, err = run(
        capsys,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        "Paths={Quantity=3,Items=[/a]},CallerReference=q",
        emu=emu,
    )
    assert code == 254
    assert "(InconsistentQuantities)" in err


def test_paths_and_invalidation_batch_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    """Both at once is a usage error (252), said before anything is sent."""
    code, out, err = run(
        capsys,
        "create-invalidation",
        "--distribution-id",
        "E1",
        "--paths",
        "/a",
        "--invalidation-batch",
        "Paths={Quantity=1,Items=[/a]},CallerReference=r",
    )
    assert (code, out) == (252, "")
    assert err.startswith("usage: cfinv create-invalidation")
    assert "not allowed with argument" in err


def test_missing_distribution_id_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A required value missing everywhere: the usage hint and `cfinv: error:`, as the AWS CLI."""
    code, _, err = run(capsys, "create-invalidation", "--paths", "/a")
    assert code == 252
    assert err.startswith("usage: cfinv [options] <command> [parameters]\n")
    assert err.endswith("cfinv: error: the following arguments are required: --distribution-id\n")
    monkeypatch.setenv("CFINV_EXIT_CODES", "v1")
    code, _, _ = run(capsys, "get-invalidation", "--id", "I1")
    assert code == 2  # AWS CLI v1's code for an incomplete command line


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`cfinv` alone is an incomplete command line (252), not a successful help page."""
    code, out, err = run(capsys)
    assert (code, out) == (252, "")
    assert "cfinv --help" in err
    assert err.endswith("cfinv: error: the following arguments are required: command\n")


def test_bad_json_names_the_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    """Invalid JSON says which parameter and shows what was received."""
    code, _, err = run(
        capsys, "create-invalidation", "--distribution-id", "E1", "--invalidation-batch", "{bad"
    )
    assert code == 252
    assert "Error parsing parameter '--invalidation-batch': Invalid JSON" in err
    assert "JSON received: {bad" in err


def test_cli_input_json_with_command_line_override(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, tmp_path: Path
) -> None:
    """--cli-input-json supplies parameters; the command line overrides them."""
    dist = emu.create_distribution()
    path = tmp_path / "input.json"
    path.write_text(
        json.dumps(
            {
                "DistributionId": "ENOTTHISONE1234",
                "InvalidationBatch": {
                    "Paths": {"Quantity": 1, "Items": ["/in"]},
                    "CallerReference": "i",
                },
            }
        )
    )
    code, out, _ = run(
        capsys,
        "create-invalidation",
        "--cli-input-json",
        f"file://{path}",
        "--distribution-id",
        dist,
        emu=emu,
    )
    assert code == 0
    assert json.loads(out)["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/in"]
    assert emu.invalidations(dist)


def test_cli_input_yaml(capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator) -> None:
    """--cli-input-yaml works like --cli-input-json."""
    dist = emu.create_distribution()
    text = (
        f"DistributionId: {dist}\n"
        "InvalidationBatch:\n  Paths:\n    Quantity: 1\n    Items: [/y]\n  CallerReference: y\n"
    )
    code, out, _ = run(capsys, "create-invalidation", "--cli-input-yaml", text, emu=emu)
    assert code == 0
    assert json.loads(out)["Invalidation"]["InvalidationBatch"]["CallerReference"] == "y"


def test_cli_input_json_and_yaml_together_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Only one input document at a time."""
    code, _, err = run(
        capsys, "create-invalidation", "--cli-input-json", "{}", "--cli-input-yaml", "a: 1"
    )
    assert code == 252
    assert "Only one of --cli-input-json and --cli-input-yaml" in err


def test_generate_yaml_input_skeleton_round_trips(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, tmp_path: Path
) -> None:
    """The yaml-input skeleton, filled in, is accepted by --cli-input-yaml."""
    code, out, _ = run(capsys, "create-invalidation", "--generate-cli-skeleton", "yaml-input")
    assert code == 0
    document = yaml.safe_load(out)
    dist = emu.create_distribution()
    document["DistributionId"] = dist
    document["InvalidationBatch"] = {
        "Paths": {"Quantity": 1, "Items": ["/s"]},
        "CallerReference": "s",
    }
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(document))
    code, _, _ = run(capsys, "create-invalidation", "--cli-input-yaml", f"file://{path}", emu=emu)
    assert code == 0


def test_cloudfront_prefix_is_accepted(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """`cfinv [globals] cloudfront <command> ...` works as typed for `aws`."""
    dist = emu.create_distribution()
    argv = ("cloudfront", "create-invalidation", "--distribution-id", dist, "--paths", "/a")
    code, _, _ = run(capsys, *argv, emu=emu)
    assert code == 0
    argv = ("--output", "text", "cloudfront", "list-invalidations", "--distribution-id", dist)
    code, out, _ = run(capsys, *argv, emu=emu)
    assert code == 0
    assert out.startswith("ITEMS\t")


# --- output formats, query, errors --------------------------------------------------------


def test_output_formats(capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator) -> None:
    """text, table, yaml and yaml-stream render the same response."""
    dist = emu.create_distribution()
    created = emu.create_invalidation(dist, ["/a"], caller_reference="fmt")
    base = ("get-invalidation", "--distribution-id", dist, "--id", created.id)
    _, text, _ = run(capsys, *base, "--output", "text", emu=emu)
    assert text.splitlines()[0].split("\t")[2:] == [created.id, "InProgress"]
    assert "ITEMS\t/a" in text
    _, table, _ = run(capsys, *base, "--output", "table", "--color", "off", emu=emu)
    assert "GetInvalidation" in table.splitlines()[1]
    assert "\x1b[" not in table
    _, colored, _ = run(capsys, *base, "--output", "table", "--color", "on", emu=emu)
    assert "\x1b[1m\x1b[34m" in colored
    _, as_yaml, _ = run(capsys, *base, "--output", "yaml", emu=emu)
    assert yaml.safe_load(as_yaml)["Invalidation"]["Id"] == created.id
    _, stream, _ = run(capsys, *base, "--output", "yaml-stream", emu=emu)
    assert yaml.safe_load(stream)[0]["Invalidation"]["Id"] == created.id


def test_query(capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator) -> None:
    """--query applies JMESPath before formatting."""
    dist = emu.create_distribution()
    created = emu.create_invalidation(dist, ["/a", "/b"])
    code, out, _ = run(
        capsys,
        "get-invalidation",
        "--distribution-id",
        dist,
        "--id",
        created.id,
        "--query",
        "Invalidation.InvalidationBatch.Paths.Items",
        "--output",
        "text",
        emu=emu,
    )
    assert (code, out) == (0, "/a\t/b\n")


def test_text_output_of_a_mixed_list(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """A query mixing values and objects prints every element (where the AWS CLI fails)."""
    dist = emu.create_distribution()
    created = emu.create_invalidation(dist, ["/a"])
    code, out, _ = run(
        capsys,
        "get-invalidation",
        "--distribution-id",
        dist,
        "--id",
        created.id,
        "--output",
        "text",
        "--query",
        "[Invalidation.Id, Invalidation.InvalidationBatch.Paths]",
        emu=emu,
    )
    assert code == 0
    assert out.splitlines() == [created.id, "1", "ITEMS\t/a"]


def test_bad_query_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """An invalid JMESPath expression is reported with the expression."""
    code, _, err = run(
        capsys,
        "get-invalidation",
        "--distribution-id",
        "E1",
        "--id",
        "I1",
        "--query",
        "[[",
        emu=emu,
    )
    assert code == 252
    assert "Bad value for --query [[" in err


def test_service_error_exit_codes(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service error is 254 (AWS CLI v2), or 255 with CFINV_EXIT_CODES=v1 (AWS CLI v1)."""
    argv = ("get-invalidation", "--distribution-id", "ENOSUCHDIST1234", "--id", "I1")
    code, _, err = run(capsys, *argv, emu=emu)
    assert code == 254
    assert err == (
        "\nAn error occurred (NoSuchDistribution) when calling the GetInvalidation operation: "
        "The specified distribution does not exist.\n"
    )
    monkeypatch.setenv("CFINV_EXIT_CODES", "v1")
    assert run(capsys, *argv, emu=emu)[0] == 255


def test_connection_failure_is_255(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody listening: 255 and botocore's message."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's own retries, as in the AWS CLI
    code, _, err = run(
        capsys,
        "get-invalidation",
        "--distribution-id",
        "E1",
        "--id",
        "I1",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--cli-connect-timeout",
        "2",
    )
    assert code == 255
    assert "Could not connect to the endpoint URL" in err


def test_missing_credentials_are_a_configuration_error(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials anywhere: 253 and what to do."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, _, err = run(capsys, "get-invalidation", "--distribution-id", "E1", "--id", "I1", emu=emu)
    assert code == 253
    assert "Unable to locate credentials" in err


def test_unsigned_requests_are_refused_by_the_emulator(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """--no-sign-request sends no signature; the emulator answers 403."""
    code, _, err = run(
        capsys, "list-invalidations", "--distribution-id", "E1", "--no-sign-request", emu=emu
    )
    assert code == 254
    assert "(MissingAuthenticationToken)" in err


def test_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    """A profile that does not exist is a configuration error (253)."""
    code, _, err = run(
        capsys, "get-invalidation", "--distribution-id", "E1", "--id", "I1", "--profile", "nope"
    )
    assert code == 253
    assert "nope" in err


def test_auto_prompt_needs_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--cli-auto-prompt without a terminal says so instead of hanging."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "get-invalidation", "--cli-auto-prompt")
    assert code == 252
    assert "needs a terminal" in err


def test_accepted_compatibility_options(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """Options that do not apply to invalidations are accepted (and do no harm)."""
    dist = emu.create_distribution()
    code, _, _ = run(
        capsys,
        "list-invalidations",
        "--distribution-id",
        dist,
        "--no-cli-pager",
        "--cli-binary-format",
        "raw-in-base64-out",
        "--no-cli-auto-prompt",
        "--no-verify-ssl",
        "--cli-read-timeout",
        "5",
        "--region",
        "us-east-1",
        emu=emu,
    )
    assert code == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints cfinv's, Python's and botocore's versions, like `aws --version`."""
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert re.fullmatch(r"cfinv/\S+ Python/\S+ \S+/\S+ botocore/\S+\n", out)


# --- get, list, wait -------------------------------------------------------------------------


def test_list_paginates_and_resumes(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """--max-items stops at a NextToken, --starting-token resumes, --no-paginate calls once."""
    dist = emu.create_distribution()
    ids = [emu.create_invalidation(dist, [f"/p{i}"]).id for i in range(5)][::-1]
    base = ("list-invalidations", "--distribution-id", dist)
    code, out, _ = run(capsys, *base, "--max-items", "2", "--page-size", "1", emu=emu)
    assert code == 0
    first = json.loads(out)
    assert [i["Id"] for i in first["InvalidationList"]["Items"]] == ids[:2]
    _, out, _ = run(capsys, *base, "--starting-token", first["NextToken"], emu=emu)
    assert [i["Id"] for i in json.loads(out)["InvalidationList"]["Items"]] == ids[2:]
    _, out, _ = run(capsys, *base, "--no-paginate", "--max-items", "1", emu=emu)
    page = json.loads(out)["InvalidationList"]
    assert (page["Quantity"], page["IsTruncated"], page["NextMarker"]) == (1, True, ids[0])
    _, out, _ = run(capsys, *base, "--page-size", "2", "--output", "text", emu=emu)
    assert [line.split("\t")[2] for line in out.splitlines()] == ids


def test_wait_invalidation_completed(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """The waiter succeeds silently once Completed, with a configurable delay."""
    dist = fast_emu.create_distribution()
    created = fast_emu.create_invalidation(dist, ["/a"])
    code, out, _ = run(
        capsys,
        "wait",
        "invalidation-completed",
        "--distribution-id",
        dist,
        "--id",
        created.id,
        "--delay",
        "0.05",
        emu=fast_emu,
    )
    assert (code, out) == (0, "")


def test_wait_gives_up_after_max_attempts(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """Max attempts exceeded: 255 and the waiter's message."""
    dist = emu.create_distribution()
    created = emu.create_invalidation(dist, ["/a"])
    code, _, err = run(
        capsys,
        "wait",
        "invalidation-completed",
        "--distribution-id",
        dist,
        "--id",
        created.id,
        "--delay",
        "0",
        "--max-attempts",
        "2",
        emu=emu,
    )
    assert code == 255
    assert "Waiter InvalidationCompleted failed: Max attempts exceeded" in err


def test_wait_for_a_tenant(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """The distribution-tenant waiter works too."""
    tenant = fast_emu.create_distribution_tenant()
    created = fast_emu.create_invalidation(tenant, ["/a"], tenant=True)
    code, _, _ = run(
        capsys,
        "wait",
        "invalidation-for-distribution-tenant-completed",
        "--distribution-tenant-id",
        tenant,
        "--id",
        created.id,
        "--delay",
        "0.05",
        emu=fast_emu,
    )
    assert code == 0


# --- invalidate ---------------------------------------------------------------------------------


def test_invalidate_reads_stdin_and_waits(
    capsys: pytest.CaptureFixture[str],
    fast_emu: CloudFrontEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paths from stdin (one per line), cleaned up, sent, waited for; the report printed."""
    dist = fast_emu.create_distribution()
    monkeypatch.setattr(sys, "stdin", io.StringIO("/img/a.png\n\n  /img/*  \n/docs/café.html\n"))
    code, out, err = run(
        capsys,
        "invalidate",
        "--distribution-id",
        dist,
        "--paths-from",
        "-",
        "--progress",
        "lines",
        emu=fast_emu,
    )
    assert code == 0
    (report,) = json.loads(out)["Reports"]
    assert report["Completed"] is True
    assert (report["InputPaths"], report["CoveredDropped"], report["BillablePaths"]) == (3, 1, 2)
    (created,) = fast_emu.invalidations(dist)
    assert sorted(created.batch.paths.items) == ["/docs/caf%C3%A9.html", "/img/*"]
    assert "accepted as" in err


def test_invalidate_several_distributions_and_json_progress(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """--distribution-id is repeatable; --progress json emits one event per line."""
    first, second = fast_emu.create_distribution(), fast_emu.create_distribution()
    code, out, err = run(
        capsys,
        "invalidate",
        "--distribution-id",
        first,
        "--distribution-id",
        second,
        "/a",
        "/b",
        "--progress",
        "json",
        emu=fast_emu,
    )
    assert code == 0
    assert [r["DistributionId"] for r in json.loads(out)["Reports"]] == [first, second]
    events = [json.loads(line) for line in err.splitlines()]
    assert {e["event"] for e in events} >= {"Planned", "Submitted", "Completed", "Finished"}
    assert {e["distribution_id"] for e in events} == {first, second}


def test_invalidate_dry_run_sends_nothing(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """--dry-run prints batches, billable paths and the cost, and makes no call."""
    paths = [f"/p{i}" for i in range(1500)] + ["/p1", "/x/*", "/x/y"]
    code, out, _ = run(
        capsys, "invalidate", "--distribution-id", "EDRYRUN", *paths, "--dry-run", emu=fast_emu
    )
    plan = json.loads(out)
    assert code == 0
    assert (plan["BillablePaths"], plan["DuplicatesDropped"], plan["CoveredDropped"]) == (
        1501,
        1,
        1,
    )
    assert plan["EstimatedCostUSD"] == pytest.approx(501 * 0.005)
    assert [len(b["Paths"]) for b in plan["Batches"]] == [1501]
    assert fast_emu.calls == ()


def test_invalidate_no_wait_and_timeout(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """--no-wait returns once accepted; --timeout gives a partial report and exit 255."""
    dist = emu.create_distribution()
    code, out, _ = run(
        capsys,
        "invalidate",
        "--distribution-id",
        dist,
        "/a",
        "--no-wait",
        "--progress",
        "none",
        emu=emu,
    )
    assert code == 0
    assert json.loads(out)["Reports"][0]["Batches"][0]["Status"] == "InProgress"
    code, out, err = run(
        capsys,
        "invalidate",
        "--distribution-id",
        dist,
        "/b",
        "--timeout",
        "0.3",
        "--progress",
        "none",
        emu=emu,
    )
    assert code == 255
    assert json.loads(out)["Reports"][0]["TimedOut"] is True
    assert "timed out" in err


def test_invalidate_invalid_path_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """All invalid paths are named; nothing is sent; exit 252."""
    code, _, err = run(capsys, "invalidate", "--distribution-id", "E1", "/a*b", "/ok", emu=fast_emu)
    assert code == 252
    assert "'/a*b'" in err
    assert fast_emu.calls == ()


def test_invalidate_unknown_distribution(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """A failing distribution is reported (254); the others' reports are still printed."""
    good = fast_emu.create_distribution()
    code, out, err = run(
        capsys,
        "invalidate",
        "--distribution-id",
        good,
        "--distribution-id",
        "ENOSUCHDIST1234",
        "/a",
        "--progress",
        "none",
        emu=fast_emu,
    )
    assert code == 254
    assert [r["DistributionId"] for r in json.loads(out)["Reports"]] == [good]
    assert "(NoSuchDistribution)" in err


def test_invalidate_tenant(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """Distribution tenants are targets too."""
    tenant = fast_emu.create_distribution_tenant()
    code, _, _ = run(
        capsys,
        "invalidate",
        "--distribution-tenant-id",
        tenant,
        "/t",
        "--progress",
        "none",
        emu=fast_emu,
    )
    assert code == 0
    assert len(fast_emu.tenant_invalidations(tenant)) == 1


def test_invalidate_needs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    """No distribution: a usage error naming the option."""
    code, _, err = run(capsys, "invalidate", "/a")
    assert code == 252
    assert "--distribution-id" in err


# --- demo and serve -------------------------------------------------------------------------------


def test_demo_runs_a_whole_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's main command, sped up: every batch Completed, nothing refused."""
    code, out, err = run(capsys, "demo", "--speed", "25", "--progress", "bar")
    assert code == 0
    assert "another team's invalidation" in err
    assert "all Completed" in out
    assert "TooManyInvalidationsInProgress answers: 0" in out
    given = re.search(r"([\d,]+) paths given", out)
    assert given is not None
    assert int(given.group(1).replace(",", "")) >= 7000


def test_serve_runs_the_emulator() -> None:
    """`cfinv serve` is the emulator's command under another name."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cfinv", "serve", "--port", "0", "--distribution", "ESERVE"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "listening on http://127.0.0.1:" in process.stdout.readline()
        assert "ESERVE" in process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("command", ["invalidate", "create-invalidation", "list-invalidations"])
def test_help_shows_the_command_first(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """--help: usage, what it does and examples, its own options, then the AWS global ones."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: cfinv {command} --distribution-id ID")
    examples = out.index("examples:\n  cfinv ")
    own = out.index("\n  --distribution-id ID ")
    shared = out.index("global options (as in the AWS CLI):")
    assert examples < own < shared < out.index("--endpoint-url URL")
    assert max(len(line) for line in out.splitlines()) <= 80


def test_serve_help_shows_defaults() -> None:
    """`cfinv serve --help`: grouped options, each with its default; examples."""
    result = subprocess.run(
        [sys.executable, "-m", "cfinv", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    out = result.stdout
    assert out.startswith("usage: cfinv serve [options]")
    for expected in (
        "CloudFront's behaviour and limits:",
        "port to listen on; 0 picks a free one (default: 5000)",
        "(default: 3000)",
        "--debug",
        "examples:",
    ):
        assert expected in out


def test_serve_debug_logs_each_request() -> None:
    """`cfinv serve --debug` logs one line per request; the banner hides a secret key given."""
    import botocore.session

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cfinv",
            "serve",
            "--port",
            "0",
            "--debug",
            "--distribution",
            "EDEBUG",
            "--secret-key",
            "s3cr3t-value",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split("listening on ")[1].strip()
        banner = [process.stdout.readline() for _ in range(2)]
        assert "s3cr3t-value" not in "".join(banner)
        client: Any = botocore.session.get_session().create_client(
            "cloudfront",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="s3cr3t-value",
        )
        client.list_invalidations(DistributionId="EDEBUG")
        with pytest.raises(client.exceptions.NoSuchDistribution):
            client.get_invalidation(DistributionId="ENOPE", Id="I1")
        client.close()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "cfinv.testing ListInvalidations EDEBUG -> 200" in err
    assert "cfinv.testing GetInvalidation ENOPE -> 404 NoSuchDistribution" in err
    assert "s3cr3t-value" not in err


# --- shorthand, as a property ------------------------------------------------------------------

_segments = st.text(alphabet="abcxyz019-_.", min_size=1, max_size=8)


@given(
    st.lists(_segments.map(lambda s: "/" + s), min_size=1, max_size=5),
    st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12),
)
def test_shorthand_round_trips(items: list[str], reference: str) -> None:
    """Any batch written in shorthand parses back to itself."""
    text = f"Paths={{Quantity={len(items)},Items=[{','.join(items)}]}},CallerReference={reference}"
    assert parse_shorthand(text, INVALIDATION_BATCH, "--x") == {
        "Paths": {"Quantity": len(items), "Items": items},
        "CallerReference": reference,
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Paths={Quantity=x}", "Expected an integer"),
        ("Nope=1", "Unknown key 'Nope'"),
        ("Paths={Quantity=1", "Expected: '}'"),
        ("Paths", "Expected: '='"),
    ],
)
def test_shorthand_errors_point_at_the_problem(text: str, fragment: str) -> None:
    """Shorthand mistakes name the parameter and what was expected."""
    with pytest.raises(UsageError, match=re.escape(fragment)) as info:
        parse_shorthand(text, INVALIDATION_BATCH, "--invalidation-batch")
    assert "--invalidation-batch" in str(info.value)


# --- deploy ids and waiting on known ids ------------------------------------------------------


def test_invalidate_takes_the_deploy_id_from_github_actions(
    capsys: pytest.CaptureFixture[str],
    fast_emu: CloudFrontEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a GitHub Actions job the run id (not the attempt) names the deploy; a retry resumes."""
    dist = fast_emu.create_distribution()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_RUN_ID", "9876543210")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "1")
    monkeypatch.setenv("GITHUB_JOB", "deploy")
    args = ("invalidate", "--distribution-id", dist, "/a", "/b", "--progress", "none")
    code, out, err = run(capsys, *args, emu=fast_emu)
    assert code == 0
    assert "deploy id gh-9876543210-deploy (GitHub Actions: GITHUB_RUN_ID and GITHUB_JOB)" in err
    (created,) = fast_emu.invalidations(dist)
    assert created.batch.caller_reference.startswith("cfinv:gh-9876543210-deploy:")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "2")  # the job, re-run
    code, out, _ = run(capsys, *args, emu=fast_emu)
    assert code == 0
    (report,) = json.loads(out)["Reports"]
    assert "CreateInvalidation" not in report["ApiCalls"]
    assert [b["Resumed"] for b in report["Batches"]] == [True]
    code, out, err = run(capsys, *args, "--no-deploy-id", emu=fast_emu)
    assert code == 0
    assert "deploy id" not in err
    assert len(fast_emu.invalidations(dist)) == 2


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"GITLAB_CI": "true", "CI_PIPELINE_ID": "4711", "CI_JOB_NAME": "deploy docs"},
            "gl-4711-deploy-docs",
        ),
        (
            {"CIRCLECI": "true", "CIRCLE_WORKFLOW_WORKSPACE_ID": "ab-12", "CIRCLE_JOB": "cdn"},
            "cc-ab-12-cdn",
        ),
        (
            {"BUILDKITE": "true", "BUILDKITE_BUILD_ID": "0190-ff", "BUILDKITE_STEP_KEY": "inv"},
            "bk-0190-ff-inv",
        ),
        ({"JENKINS_URL": "http://ci", "BUILD_TAG": "jenkins-site-7"}, None),
        ({}, None),
    ],
)
def test_deploy_ids_of_other_ci_systems(environ: dict[str, str], expected: str | None) -> None:
    """Each system's id that survives a retry; none for Jenkins, whose rebuilds are new builds."""
    from cfinv.cli._ci import detect_deploy_id

    assert detect_deploy_id(environ).deploy_id == expected
    long = detect_deploy_id({"GITLAB_CI": "1", "CI_PIPELINE_ID": "9", "CI_JOB_NAME": "x" * 200})
    assert long.deploy_id is not None
    assert len(long.deploy_id) == 64


def test_a_bad_deploy_id_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """A deploy id CloudFront references cannot carry: exit 252, the id named, no traceback."""
    dist = emu.create_distribution()
    code, _, err = run(capsys, "invalidate", "--distribution-id", dist, "/a", "--deploy-id", "a b")
    assert code == 252
    assert "invalid deploy id 'a b'" in err
    assert "Traceback" not in err
    assert emu.invalidations(dist) == ()


def test_wait_for_known_invalidations(
    capsys: pytest.CaptureFixture[str], fast_emu: CloudFrontEmulator
) -> None:
    """--wait-for: cfinv's polling on invalidations made elsewhere, several at once."""
    dist = fast_emu.create_distribution()
    ids = [fast_emu.create_invalidation(dist, [f"/{n}"]).id for n in range(3)]
    code, out, _ = run(
        capsys,
        "invalidate",
        "--distribution-id",
        dist,
        "--wait-for",
        *ids,
        "--progress",
        "none",
        emu=fast_emu,
    )
    assert code == 0
    printed = json.loads(out)
    assert printed["Completed"] is True
    assert [i["Id"] for i in printed["Invalidations"]] == ids
    assert {i["Status"] for i in printed["Invalidations"]} == {"Completed"}
    code, _, err = run(
        capsys, "invalidate", "--distribution-id", dist, "--wait-for", "INOSUCH", emu=fast_emu
    )
    assert code == 254
    assert "NoSuchInvalidation" in err
