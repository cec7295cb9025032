"""
Conformance: `cfinv <command>` prints what `aws cloudfront <command>` prints.

Both run as real processes against the same emulator: the AWS CLI from PyPI
(`python -m awscli`) and `python -m cfinv`.  Where a value is necessarily
different (a new invalidation's Id, time and generated CallerReference),
the comparison leaves it out; everywhere else the output must be identical.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from cfinv.testing import CloudFrontEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator

FORMATS = ["json", "text", "table"]


@pytest.fixture(scope="module")
def emu() -> Iterator[CloudFrontEmulator]:
    """One emulator for the module; invalidations stay InProgress so outputs are stable."""
    with CloudFrontEmulator(latency=3600, rate_limits=None, seed=5) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def dist(emu: CloudFrontEmulator) -> str:
    """A distribution with three invalidations."""
    dist = emu.create_distribution()
    for i in range(3):
        emu.create_invalidation(
            dist, [f"/page-{i}.html", "/café menu.pdf"], caller_reference=f"seed-{i}"
        )
    return dist


AWS = (sys.executable, "-m", "awscli", "cloudfront")
CFINV = (sys.executable, "-m", "cfinv")


def _start(
    program: tuple[str, ...], emu: CloudFrontEmulator, args: tuple[str, ...], env: dict[str, str]
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*program, *args, "--endpoint-url", emu.endpoint_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **emu.environ(), "AWS_PAGER": "", **env},
    )


def _finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def aws(emu: CloudFrontEmulator, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real AWS CLI (v1, from PyPI)."""
    return _finish(_start(AWS, emu, args, env))


def cfinv(emu: CloudFrontEmulator, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """cfinv, as a whole process."""
    return _finish(_start(CFINV, emu, args, env))


def both(emu: CloudFrontEmulator, *args: str) -> tuple[subprocess.CompletedProcess[str], ...]:
    """Run the AWS CLI and cfinv side by side (an identical create is the same invalidation)."""
    running = [_start(AWS, emu, args, {}), _start(CFINV, emu, args, {})]
    return tuple(_finish(p) for p in running)


def same(emu: CloudFrontEmulator, *args: str) -> str:
    """Run both; assert identical stdout and exit code; return the output."""
    theirs, ours = both(emu, *args)
    assert theirs.returncode == 0, theirs.stderr
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), ours.stderr
    return ours.stdout


# --- create-invalidation ----------------------------------------------------------------------


@pytest.mark.parametrize("output", FORMATS)
def test_create_invalidation_output(emu: CloudFrontEmulator, dist: str, output: str) -> None:
    """The same batch twice is the same invalidation: both commands must print it identically."""
    batch = json.dumps(
        {
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/img/*"]},
            "CallerReference": f"conf-{output}",
        }
    )
    out = same(
        emu,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        batch,
        "--output",
        output,
    )
    assert "/img/*" in out


@pytest.mark.parametrize(
    ("output", "query"),
    [
        ("json", "Invalidation.Status"),
        ("text", "Invalidation.InvalidationBatch.Paths"),
        ("table", "Invalidation.InvalidationBatch"),
        ("json", "Invalidation.[Id, Status]"),
    ],
)
def test_create_invalidation_query(
    emu: CloudFrontEmulator, dist: str, output: str, query: str
) -> None:
    """--query gives the same result."""
    batch = f"Paths={{Quantity=1,Items=[/q.html]}},CallerReference=query-{output}-{len(query)}"
    same(
        emu,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        batch,
        "--output",
        output,
        "--query",
        query,
    )


def _masked(document: dict[str, Any]) -> dict[str, Any]:
    inv = document["Invalidation"]
    assert re.fullmatch(r"cli-\d+-\d+", inv["InvalidationBatch"]["CallerReference"])
    assert document["Location"].endswith("/" + inv["Id"])
    for key in ("Id", "CreateTime"):
        inv[key] = "<varies>"
    inv["InvalidationBatch"]["CallerReference"] = "<varies>"
    document["Location"] = "<varies>"
    return document


def test_create_invalidation_with_paths(emu: CloudFrontEmulator, dist: str) -> None:
    """--paths: same shape and values, but for Id, time and the generated reference."""
    args = ("create-invalidation", "--distribution-id", dist, "--paths", "/a.html", "/b/*")
    theirs, ours = both(emu, *args)
    assert (ours.returncode, theirs.returncode) == (0, 0)
    assert _masked(json.loads(theirs.stdout)) == _masked(json.loads(ours.stdout))
    # The same layout line by line, too.
    assert len(theirs.stdout.splitlines()) == len(ours.stdout.splitlines())


# --- get-invalidation and list-invalidations ----------------------------------------------------


@pytest.mark.parametrize("output", FORMATS)
def test_get_invalidation_output(emu: CloudFrontEmulator, dist: str, output: str) -> None:
    """get-invalidation prints the same in every format."""
    inv_id = emu.invalidations(dist)[0].id
    same(emu, "get-invalidation", "--distribution-id", dist, "--id", inv_id, "--output", output)


@pytest.mark.parametrize("output", FORMATS)
def test_get_invalidation_query(emu: CloudFrontEmulator, dist: str, output: str) -> None:
    """get-invalidation --query gives the same result."""
    inv_id = emu.invalidations(dist)[0].id
    same(
        emu,
        "get-invalidation",
        "--distribution-id",
        dist,
        "--id",
        inv_id,
        "--output",
        output,
        "--query",
        "Invalidation.InvalidationBatch.Paths.Items",
    )


@pytest.mark.parametrize("output", FORMATS)
@pytest.mark.parametrize(
    "pagination",
    [
        (),
        ("--page-size", "1"),
        ("--max-items", "2", "--page-size", "1"),
        ("--no-paginate",),
        ("--no-paginate", "--max-items", "1"),
    ],
    ids=["all", "page-size", "max-items", "no-paginate", "no-paginate-max-items"],
)
def test_list_invalidations_output(
    emu: CloudFrontEmulator, dist: str, output: str, pagination: tuple[str, ...]
) -> None:
    """list-invalidations, auto-paginated or not, prints the same (NextToken included)."""
    same(emu, "list-invalidations", "--distribution-id", dist, "--output", output, *pagination)


def test_list_invalidations_starting_token(emu: CloudFrontEmulator, dist: str) -> None:
    """A NextToken from the AWS CLI resumes identically in cfinv."""
    first = json.loads(
        same(emu, "list-invalidations", "--distribution-id", dist, "--max-items", "1")
    )
    same(
        emu, "list-invalidations", "--distribution-id", dist, "--starting-token", first["NextToken"]
    )


@pytest.mark.parametrize("output", FORMATS)
def test_list_invalidations_query(emu: CloudFrontEmulator, dist: str, output: str) -> None:
    """list-invalidations --query gives the same result."""
    same(
        emu,
        "list-invalidations",
        "--distribution-id",
        dist,
        "--output",
        output,
        "--query",
        "InvalidationList.Items[].[Id, Status]",
    )


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("create-invalidation", "--distribution-id", "ENOSUCHDIST1234", "--paths", "/a"),
        ("get-invalidation", "--distribution-id", "ENOSUCHDIST1234", "--id", "I1"),
        ("list-invalidations", "--distribution-id", "ENOSUCHDIST1234"),
    ],
    ids=["create", "get", "list"],
)
def test_no_such_distribution(emu: CloudFrontEmulator, args: tuple[str, ...]) -> None:
    """The same message; the same exit code under v1's convention, v2's 254 by default."""
    theirs = aws(emu, *args)
    ours_v1 = cfinv(emu, *args, CFINV_EXIT_CODES="v1")
    ours_v2 = cfinv(emu, *args)
    assert theirs.returncode == 255  # AWS CLI v1, the one on PyPI
    assert ours_v1.returncode == theirs.returncode
    assert ours_v2.returncode == 254  # AWS CLI v2's code for a service error
    assert ours_v1.stderr == theirs.stderr
    assert ours_v1.stdout == theirs.stdout == ""
