"""
The command fails well: every bad input gets a message and an exit code, never a traceback.

Each test is one defect a user met (a traceback, a wrong exit code, a value
silently misread, a secret printed); the threaded emulator answers where a
call is made.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfinv import Runtime
from cfinv.cli._debug import REDACTED, redact
from cfinv.testing import CloudFrontEmulator
from tests.cli_support import run, untrusted_tls_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def emu() -> Iterator[CloudFrontEmulator]:
    """A threaded emulator whose invalidations complete as they are created."""
    with CloudFrontEmulator(latency=0, rate_limits=None, runtime=Runtime.seeded(3)) as emulator:
        yield emulator


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err, err


# --- values read from files -----------------------------------------------------------------


def test_file_values_work_for_every_parameter(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, tmp_path: Path
) -> None:
    """file:// is read for plain string options too (--distribution-id, --id), as the AWS CLI."""
    dist = emu.create_distribution()
    made = emu.create_invalidation(dist, ["/f"])
    (tmp_path / "dist.txt").write_text(dist)
    (tmp_path / "id.txt").write_text(made.id)
    code, out, err = run(
        capsys,
        "get-invalidation",
        "--distribution-id",
        f"file://{tmp_path / 'dist.txt'}",
        "--id",
        f"file://{tmp_path / 'id.txt'}",
        emu=emu,
    )
    assert code == 0, err
    assert json.loads(out)["Invalidation"]["Id"] == made.id


@pytest.mark.parametrize(
    "option",
    ["--invalidation-batch", "--cli-input-json", "--distribution-id"],
)
def test_a_file_that_is_not_utf8_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str
) -> None:
    """A file:// value in Latin-1: "could not be decoded", 252, no traceback."""
    path = tmp_path / "latin1.txt"
    path.write_bytes("Paths={Quantity=1,Items=[/café]},CallerReference=x".encode("latin-1"))
    argv = ["create-invalidation", option, f"file://{path}"]
    if option != "--distribution-id":
        argv += ["--distribution-id", "E1"]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (252, "")
    assert f"Error parsing parameter '{option}'" in err
    assert "could not be decoded as UTF-8" in err
    _no_traceback(err)


def test_paths_from_a_file_that_is_not_utf8(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--paths-from a Latin-1 file names the file and says why; nothing is sent."""
    path = tmp_path / "paths.txt"
    path.write_bytes("/menu-café.html\n".encode("latin-1"))
    code, _, err = run(
        capsys, "invalidate", "--distribution-id", "E1", "--paths-from", str(path), "--dry-run"
    )
    assert code == 252
    assert f"cannot read paths from {path}" in err
    assert "could not be decoded as UTF-8 (byte 9)" in err


def test_paths_from_standard_input_that_is_not_utf8() -> None:
    """--paths-from - with undecodable bytes: a message and 252, as a process reads it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cfinv",
            "invalidate",
            "--distribution-id",
            "E1",
            "--paths-from",
            "-",
            "--dry-run",
        ],
        input=b"/a\n/caf\xe9\n",
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    err = result.stderr.decode()
    assert result.returncode == 252, err
    assert "cannot read paths from standard input: not UTF-8" in err
    _no_traceback(err)


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["127.0.0.1:5123", "ftp://127.0.0.1:5123", "http://"])
def test_endpoint_url_without_a_scheme(capsys: pytest.CaptureFixture[str], url: str) -> None:
    """A bad --endpoint-url gets the AWS CLI's message and 252, not a traceback."""
    code, _, err = run(
        capsys, "list-invalidations", "--distribution-id", "E1", "--endpoint-url", url
    )
    assert code == 252
    assert f'Bad value for --endpoint-url "{url}"' in err
    assert "Must be of the form http://<hostname>/ or https://<hostname>/" in err
    _no_traceback(err)


def test_skeleton_output_checks_the_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    """`--generate-cli-skeleton output` without --distribution-id is a usage error, as the seed."""
    code, out, err = run(
        capsys, "get-invalidation", "--id", "I1", "--generate-cli-skeleton", "output"
    )
    assert (code, out) == (252, "")
    assert "the following arguments are required: --distribution-id" in err


@pytest.mark.parametrize("where", ["environment", "profile"])
def test_unknown_output_type(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    """AWS_DEFAULT_OUTPUT=bogus (or a profile's `output = bogus`): "Unknown output type", 255."""
    if where == "environment":
        monkeypatch.setenv("AWS_DEFAULT_OUTPUT", "bogus")
        profile: list[str] = []
    else:
        config = tmp_path / "config"
        config.write_text("[profile odd]\noutput = bogus\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        profile = ["--profile", "odd"]
    code, out, err = run(
        capsys, "get-invalidation", "--distribution-id", "E1", "--id", "I", *profile
    )
    assert (code, out) == (255, "")
    assert "Unknown output type: bogus" in err


def test_invalidate_honours_the_profiles_output(
    capsys: pytest.CaptureFixture[str],
    emu: CloudFrontEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`cfinv invalidate --profile P` prints in P's `output` format, as the other commands do."""
    config = tmp_path / "config"
    config.write_text(
        "[profile deploy]\noutput = yaml\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    dist = emu.create_distribution()
    code, out, err = run(
        capsys, "invalidate", "--distribution-id", dist, "/a", "--profile", "deploy",
        "--progress", "none", emu=emu,
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("Reports:\n- DistributionId: ")


def test_a_long_invalid_path_is_shortened(capsys: pytest.CaptureFixture[str]) -> None:
    """A 5,000-character bad path is named by its start, end and length, not echoed in full."""
    path = "/a*" + "x" * 5000
    code, _, err = run(capsys, "invalidate", "--distribution-id", "E1", path, "--dry-run")
    assert code == 252
    assert "(5003 characters): '*' may only be the last character of a path" in err
    assert len(err) < 400


# --- output that goes nowhere ---------------------------------------------------------------


def _with_closed_stdout(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run cfinv with stdout a pipe whose reader has already gone (as `| head -1` ends)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "cfinv", *argv],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
            env={**os.environ, **env},
        )
    finally:
        os.close(writer)


def test_a_closed_stdout_ends_quietly(emu: CloudFrontEmulator) -> None:
    """`cfinv ... | head -1`: no BrokenPipeError traceback, exit 0, as the AWS CLI."""
    dist = emu.create_distribution()
    for n in range(3):
        emu.create_invalidation(dist, [f"/p{n}"])
    paths = [f"/page-{n}.html" for n in range(2000)]
    commands = [
        ["invalidate", "--distribution-id", dist, "--dry-run", *paths],
        ["list-invalidations", "--distribution-id", dist, "--endpoint-url", emu.endpoint_url],
        [
            "list-invalidations",
            "--distribution-id",
            dist,
            "--output",
            "text",
            "--endpoint-url",
            emu.endpoint_url,
        ],
    ]
    for argv in commands:
        result = _with_closed_stdout(argv, emu.environ())
        assert (result.returncode, result.stderr.decode()) == (0, ""), argv[0]


# --- TLS ------------------------------------------------------------------------------------


def test_tls_verification_failure_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An untrusted certificate: 253 with the same words in every command."""
    with untrusted_tls_server(tmp_path) as url:
        for argv in (
            ["get-invalidation", "--distribution-id", "E1", "--id", "I1"],
            ["list-invalidations", "--distribution-id", "E1"],
            ["invalidate", "--distribution-id", "E1", "/a", "--progress", "none", "--no-wait"],
        ):
            code, _, err = run(capsys, *argv, "--endpoint-url", url)
            assert code == 253, (argv[0], err)
            assert "TLS with CloudFront failed" in err
            assert "certificate verify failed" in err
            assert "check the CA bundle" in err


# --- --debug --------------------------------------------------------------------------------

_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKENabc123+/="


def test_debug_prints_each_line_once_and_no_secret(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--debug: botocore's lines once each; the session token and signatures never appear."""
    dist = emu.create_distribution()
    monkeypatch.setenv("AWS_SESSION_TOKEN", _TOKEN)
    for argv in (
        ["list-invalidations", "--distribution-id", dist],
        ["invalidate", "--distribution-id", dist, "/a", "--progress", "none"],
    ):
        code, _, err = run(capsys, *argv, "--debug", emu=emu)
        assert code == 0, err
        lines = err.splitlines()
        sending = [line for line in lines if "Sending http request" in line]
        assert sending, argv[0]
        assert len(sending) == len(set(sending)), "a botocore line printed twice"
        assert _TOKEN not in err
        assert _TOKEN[:20] not in err
        assert "x-amz-security-token:" + REDACTED in err.lower().replace(REDACTED.lower(), REDACTED)
        signatures = [line for line in lines if "Signature=" in line]
        assert signatures, argv[0]
        assert all(f"Signature={REDACTED}" in line for line in signatures)


_token_chars = st.text(
    alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
    min_size=20,
    max_size=60,
)


@given(_token_chars)
def test_redact_removes_tokens_however_botocore_quotes_them(token: str) -> None:
    """The header as botocore prints it in canonical requests, header dicts and queries."""
    lines = [
        f"x-amz-security-token:{token}",
        f"{{'X-Amz-Security-Token': b'{token}', 'Authorization': b'AWS4-HMAC-SHA256'}}",
        f'"X-Amz-Security-Token": "{token}"',
        f"https://h/?X-Amz-Security-Token={token}&X-Amz-Signature={'ab' * 32}",
        f"aws_session_token = {token}",
    ]
    for line in lines:
        cleaned = redact(line)
        assert token not in cleaned
        assert REDACTED in cleaned
    signed = (
        f"Credential=AKIDEXAMPLE/20261126/us-east-1/cloudfront/aws4_request, Signature={'0f' * 32}"
    )
    assert redact(signed).endswith(f"Signature={REDACTED}")
    assert "AKIDEXAMPLE" in redact(signed)  # an access key id is not a secret


# --- found by trying to break it ---------------------------------------------------------------


def test_a_query_that_meets_the_wrong_type(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """A JMESPath type error: the message and 255, as the AWS CLI; never a traceback."""
    dist = emu.create_distribution()
    emu.create_invalidation(dist, ["/a"])
    query = "sort_by(InvalidationList.Items, &Bogus)"
    code, out, err = run(
        capsys, "list-invalidations", "--distribution-id", dist, "--query", query, emu=emu
    )
    assert (code, out) == (255, "")
    assert "Bad value for --query" in err
    _no_traceback(err)
    code, _, err = run(
        capsys, "invalidate", "--distribution-id", dist, "/b", "--query", "length(`1`)",
        "--progress", "none", emu=emu,
    )  # fmt: skip
    assert code == 255
    assert "Bad value for --query" in err
    assert len(emu.invalidations(dist)) == 2  # the work was done; only the printing failed


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:abc",
        "http://a b",
        "http://a_b:80",
    ],
)
def test_endpoint_urls_botocore_cannot_use(capsys: pytest.CaptureFixture[str], url: str) -> None:
    """Every malformed --endpoint-url: the AWS CLI's message and 252, in every command."""
    for argv in (
        ["list-invalidations", "--distribution-id", "E1"],
        ["invalidate", "--distribution-id", "E1", "/a", "--progress", "none"],
    ):
        code, _, err = run(capsys, *argv, "--endpoint-url", url)
        assert code == 252, (argv[0], err)
        assert f'Bad value for --endpoint-url "{url}"' in err
        _no_traceback(err)


def test_an_argument_that_is_not_utf8(capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes that are not UTF-8 (kept by Python as surrogates): a usage error naming them."""
    code, _, err = run(capsys, "list-invalidations", "--distribution-id", "E\udcff1")
    assert code == 252
    assert "cfinv: error: argument 'E\\xff1' is not valid UTF-8" in err


@pytest.mark.parametrize(
    "argv",
    [
        [
            "wait",
            "invalidation-completed",
            "--distribution-id",
            "E1",
            "--id",
            "I1",
            "--delay",
            "nan",
        ],
        [
            "wait",
            "invalidation-completed",
            "--distribution-id",
            "E1",
            "--id",
            "I1",
            "--delay",
            "-1",
        ],
        [
            "wait",
            "invalidation-completed",
            "--distribution-id",
            "E1",
            "--id",
            "I1",
            "--max-attempts",
            "0",
        ],
        ["invalidate", "--distribution-id", "E1", "/a", "--timeout", "-1"],
        ["invalidate", "--distribution-id", "E1", "/a", "--timeout", "inf"],
        ["demo", "--speed", "0"],
    ],
)
def test_durations_and_counts_are_checked_first(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Negative, zero, infinite or NaN durations and counts: refused before anything runs."""
    code, out, err = run(capsys, *argv)
    assert (code, out) == (252, "")
    assert f"cfinv {argv[0]}" in err  # the command's own usage and error line
    assert "error: argument --" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["invalidate", "--distribution-tenant-id", "", "/a"],
        ["invalidate", "--distribution-id", " ", "/a"],
        ["invalidate", "--distribution-id", "E1", "--wait-for", ""],
    ],
)
def test_empty_ids_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """An empty id names the option it was given to."""
    code, _, err = run(capsys, *argv)
    assert code == 252
    assert "needs an id" in err
    _no_traceback(err)


def test_configuration_problems_are_253(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A config file botocore cannot parse, or a --ca-bundle that does not exist: 253."""
    missing = str(tmp_path / "no-such-bundle.pem")
    for argv in (
        ["get-invalidation", "--distribution-id", "E1", "--id", "I1"],
        ["invalidate", "--distribution-id", "E1", "/a", "--progress", "none"],
    ):
        code, _, err = run(capsys, *argv, "--ca-bundle", missing)
        assert code == 253, err
        assert f"Bad value for --ca-bundle {missing}: no such file" in err
    broken = tmp_path / "config"
    broken.write_text("[profile x\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    code, _, err = run(capsys, "get-invalidation", "--distribution-id", "E1", "--id", "I1")
    assert code == 253, err
    _no_traceback(err)


def test_demo_checks_its_output_type_before_running(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_DEFAULT_OUTPUT=bogus: said at once, not after a whole deploy."""
    monkeypatch.setenv("AWS_DEFAULT_OUTPUT", "bogus")
    code, _, err = run(capsys, "demo", "--speed", "25", "--progress", "none")
    assert code == 255
    assert "Unknown output type: bogus" in err
    assert "cfinv demo:" not in err


def test_demo_with_a_closed_stdout_ends_quietly() -> None:
    """`cfinv demo | true`: exit 0 and nothing on stderr after the demo's own lines."""
    result = _with_closed_stdout(["demo", "--speed", "25", "--progress", "none"], {})
    err = result.stderr.decode()
    assert result.returncode == 0, err
    _no_traceback(err)


def test_debug_with_line_progress_prints_each_line_once(
    capsys: pytest.CaptureFixture[str], emu: CloudFrontEmulator
) -> None:
    """--debug and --progress lines: cfinv's lines appear once (with the debug format)."""
    dist = emu.create_distribution()
    code, _, err = run(
        capsys, "invalidate", "--distribution-id", dist, "/a", "--progress", "lines",
        "--debug", emu=emu,
    )  # fmt: skip
    assert code == 0, err
    cfinv_lines = [line.split(" ", 2)[-1] for line in err.splitlines() if " cfinv " in line]
    assert cfinv_lines
    assert len(cfinv_lines) == len(set(cfinv_lines))
    assert "Signature:\n<redacted>" in err
    assert re.search(r"Signature:\n[0-9a-f]", err) is None


def test_a_bad_auto_prompt_setting_spares_help_and_version(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_CLI_AUTO_PROMPT=bogus does not stop --version (or --help) from answering."""
    monkeypatch.setenv("AWS_CLI_AUTO_PROMPT", "bogus")
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("cfinv/")
