"""
Conformance: `cfinv <command>` prints what `aws cloudfront <command>` prints.

Both run against the same emulator: the AWS CLI from PyPI (its own driver,
``awscli.clidriver``) and cfinv's ``main()``.  Most comparisons run both
in-process, which skips half a second of start-up per command and keeps the
suite fast; the process-level cases (exit codes, stderr, a whole create) run
``python -m awscli`` and ``python -m cfinv`` side by side.  Where a value is
necessarily different (a new invalidation's Id, time and generated
CallerReference), the comparison leaves it out; everywhere else the output
must be identical.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

from cfinv import Runtime
from cfinv.cli import main as cfinv_main
from cfinv.testing import CloudFrontEmulator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

FORMATS = ["json", "text", "table"]


@pytest.fixture(scope="module")
def emu() -> Iterator[CloudFrontEmulator]:
    """One emulator for the module; invalidations stay InProgress so outputs are stable."""
    with CloudFrontEmulator(latency=3600, rate_limits=None, runtime=Runtime.seeded(5)) as emulator:
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


@pytest.fixture(scope="module")
def aws_driver() -> Callable[[], Any]:
    """Makes the AWS CLI's own command driver, a fresh one per command (as a process would)."""
    from awscli.clidriver import create_clidriver  # type: ignore[import-untyped]

    loader = create_clidriver().session.get_component("data_loader")

    def fresh() -> Any:
        driver = create_clidriver()
        # Its state is fresh; the service models it loads are not: share the loader's cache.
        driver.session.register_component("data_loader", loader)
        return driver

    return fresh


AWS = (sys.executable, "-m", "awscli", "cloudfront")
CFINV = (sys.executable, "-m", "cfinv")


def _in_process(
    entry: Callable[[list[str]], int], emu: CloudFrontEmulator, args: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    argv = [*args, "--endpoint-url", emu.endpoint_url]
    env = {**emu.environ(), "AWS_PAGER": ""}
    with (
        mock.patch.dict(os.environ, env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = entry(argv)
        except SystemExit as exit_:  # argparse's way out of a bad command line
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


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


def processes(
    emu: CloudFrontEmulator, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], ...]:
    """Run `aws cloudfront ...` and `cfinv ...` as processes, side by side."""
    running = [_start(AWS, emu, args, env), _start(CFINV, emu, args, env)]
    return tuple(_finish(p) for p in running)


def both(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, *args: str
) -> tuple[subprocess.CompletedProcess[str], ...]:
    """Run the AWS CLI and cfinv in-process (an identical create is the same invalidation)."""
    theirs = _in_process(lambda argv: int(aws_driver().main(["cloudfront", *argv])), emu, args)
    return theirs, _in_process(cfinv_main, emu, args)


def same(aws_driver: Callable[[], Any], emu: CloudFrontEmulator, *args: str) -> str:
    """Run both; assert identical stdout and exit code; return the output."""
    theirs, ours = both(aws_driver, emu, *args)
    assert theirs.returncode == 0, theirs.stderr
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), ours.stderr
    return ours.stdout


@pytest.fixture(scope="module")
def tenant(emu: CloudFrontEmulator) -> str:
    """A distribution tenant with three invalidations."""
    tenant = emu.create_distribution_tenant()
    for i in range(3):
        emu.create_invalidation(
            tenant, [f"/t-{i}.html", "/menu café.pdf"], caller_reference=f"t-{i}", tenant=True
        )
    return tenant


# The same commands for a distribution and for a distribution tenant: (command, id option).
COMMANDS = {
    "distribution": {
        "create": ("create-invalidation", "--distribution-id"),
        "get": ("get-invalidation", "--distribution-id"),
        "list": ("list-invalidations", "--distribution-id"),
    },
    "tenant": {
        "create": ("create-invalidation-for-distribution-tenant", "--id"),
        "get": ("get-invalidation-for-distribution-tenant", "--distribution-tenant-id"),
        "list": ("list-invalidations-for-distribution-tenant", "--id"),
    },
}
KINDS = sorted(COMMANDS)


@pytest.fixture
def target(request: pytest.FixtureRequest, dist: str, tenant: str) -> str:
    """The distribution or tenant the test's ``kind`` names."""
    return dist if request.node.callspec.params["kind"] == "distribution" else tenant


def _invalidations(emu: CloudFrontEmulator, kind: str, target: str) -> list[str]:
    found = (
        emu.invalidations(target) if kind == "distribution" else emu.tenant_invalidations(target)
    )
    return [i.id for i in found]


# --- create-invalidation ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("output", FORMATS)
def test_create_invalidation_output(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, target: str, output: str, kind: str
) -> None:
    """The same batch twice is the same invalidation: both commands must print it identically."""
    batch = json.dumps(
        {
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/img/*"]},
            "CallerReference": f"conf-{kind}-{output}",
        }
    )
    command, option = COMMANDS[kind]["create"]
    out = same(
        aws_driver, emu, command, option, target, "--invalidation-batch", batch, "--output", output
    )
    assert "/img/*" in out
    resource = "distribution" if kind == "distribution" else "distribution-tenant"
    assert f"/{resource}/{target}/invalidation/" in out  # the Location


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
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, dist: str, output: str, query: str
) -> None:
    """--query gives the same result."""
    batch = f"Paths={{Quantity=1,Items=[/q.html]}},CallerReference=query-{output}-{len(query)}"
    same(
        aws_driver,
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
    """--paths, as whole processes: same shape and values, but for Id, time and reference."""
    args = ("create-invalidation", "--distribution-id", dist, "--paths", "/a.html", "/b/*")
    theirs, ours = processes(emu, *args)
    assert (ours.returncode, theirs.returncode) == (0, 0)
    assert _masked(json.loads(theirs.stdout)) == _masked(json.loads(ours.stdout))
    # The same layout line by line, too.
    assert len(theirs.stdout.splitlines()) == len(ours.stdout.splitlines())


# --- get-invalidation and list-invalidations ----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("output", FORMATS)
def test_get_invalidation_output(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, target: str, output: str, kind: str
) -> None:
    """get-invalidation (and its tenant form) prints the same in every format."""
    command, option = COMMANDS[kind]["get"]
    inv_id = _invalidations(emu, kind, target)[0]
    same(aws_driver, emu, command, option, target, "--id", inv_id, "--output", output)


@pytest.mark.parametrize("output", FORMATS)
def test_get_invalidation_query(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, dist: str, output: str
) -> None:
    """get-invalidation --query gives the same result."""
    inv_id = emu.invalidations(dist)[0].id
    same(
        aws_driver,
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


@pytest.mark.parametrize("kind", KINDS)
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
def test_list_invalidations_output(  # noqa: PLR0917 - fixtures and parameters
    aws_driver: Callable[[], Any],
    emu: CloudFrontEmulator,
    target: str,
    output: str,
    pagination: tuple[str, ...],
    kind: str,
) -> None:
    """list-invalidations (and its tenant form), paginated or not, prints the same."""
    command, option = COMMANDS[kind]["list"]
    same(aws_driver, emu, command, option, target, "--output", output, *pagination)


def test_list_invalidations_starting_token(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, dist: str
) -> None:
    """A NextToken from the AWS CLI resumes identically in cfinv."""
    first = json.loads(
        same(aws_driver, emu, "list-invalidations", "--distribution-id", dist, "--max-items", "1")
    )
    token = first["NextToken"]
    same(
        aws_driver, emu, "list-invalidations", "--distribution-id", dist, "--starting-token", token
    )


@pytest.mark.parametrize("output", FORMATS)
def test_list_invalidations_query(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, dist: str, output: str
) -> None:
    """list-invalidations --query gives the same result."""
    same(
        aws_driver,
        emu,
        "list-invalidations",
        "--distribution-id",
        dist,
        "--output",
        output,
        "--query",
        "InvalidationList.Items[].[Id, Status]",
    )


# --- distribution tenants ----------------------------------------------------------------------


def test_tenant_commands_need_their_options(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator
) -> None:
    """A missing required option: the same `error:` line as the AWS CLI."""
    for args in (
        ("get-invalidation-for-distribution-tenant", "--id", "I1"),
        ("create-invalidation-for-distribution-tenant", "--id", "dt_1"),
        ("list-invalidations-for-distribution-tenant",),
    ):
        theirs, ours = both(aws_driver, emu, *args)
        (their_error,) = [line for line in theirs.stderr.splitlines() if "error:" in line]
        message = their_error.split("error: ", 1)[1]  # after the program's name
        assert f"cfinv: error: {message}" in ours.stderr.splitlines(), args
        assert ours.returncode == 252


def test_no_such_distribution_tenant(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator
) -> None:
    """An unknown tenant: the same service error message."""
    theirs, ours = both(
        aws_driver, emu, "list-invalidations-for-distribution-tenant", "--id", "dt_nosuch"
    )
    message = theirs.stderr.strip()
    assert "(NoSuchDistribution" in message or "(EntityNotFound" in message, message
    assert ours.stderr.strip() == message
    assert ours.returncode == 254


# --- skeletons and shorthand ------------------------------------------------------------------

_SKELETON_INPUTS = {
    "create-invalidation": ("--distribution-id", "E1", "--paths", "/a"),
    "get-invalidation": ("--distribution-id", "E1", "--id", "I1"),
    "list-invalidations": ("--distribution-id", "E1"),
    "create-invalidation-for-distribution-tenant": (
        "--id",
        "dt_1",
        "--invalidation-batch",
        "Paths={Quantity=1,Items=[/a]},CallerReference=r",
    ),
    "get-invalidation-for-distribution-tenant": ("--distribution-tenant-id", "dt_1", "--id", "I1"),
    "list-invalidations-for-distribution-tenant": ("--id", "dt_1"),
}


@pytest.mark.parametrize("command", sorted(_SKELETON_INPUTS))
@pytest.mark.parametrize("kind", ["input", "output"])
def test_generate_cli_skeleton(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, command: str, kind: str
) -> None:
    """Input skeletons and sample outputs (after the inputs are checked) are the AWS CLI's."""
    inputs = _SKELETON_INPUTS[command] if kind == "output" else ()
    out = same(aws_driver, emu, command, *inputs, "--generate-cli-skeleton", kind)
    assert out.startswith("{")


@pytest.mark.parametrize(
    "batch",
    [
        r"Paths={Quantity=2,Items=[/a\,b,/c]},CallerReference=esc-1",
        r"Paths={Quantity=1,Items=['/it\'s.html']},CallerReference=esc-2",
        'Paths={Quantity=1,Items=["/a,b.html"]},CallerReference=esc-3',
        r"Paths={Quantity=2,Items=[/x,/y]},CallerReference=a\,b",
    ],
    ids=["escaped-comma", "escaped-single-quote", "comma-in-double-quotes", "comma-in-reference"],
)
def test_shorthand_escapes(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, dist: str, batch: str
) -> None:
    """Backslash escapes in shorthand are read as the AWS CLI reads them."""
    out = same(
        aws_driver,
        emu,
        "create-invalidation",
        "--distribution-id",
        dist,
        "--invalidation-batch",
        batch,
    )
    assert json.loads(out)["Invalidation"]["InvalidationBatch"]["Paths"]["Quantity"] in {1, 2}


def test_second_instance_of_a_key(aws_driver: Callable[[], Any], emu: CloudFrontEmulator) -> None:
    """A repeated shorthand key: the AWS CLI's "Second instance of key" message, 252."""
    batch = "Paths={Quantity=1,Items=[/a]},CallerReference=d1,CallerReference=d2"
    args = ("create-invalidation", "--distribution-id", "E1", "--invalidation-batch", batch)
    theirs, ours = both(aws_driver, emu, *args)
    assert 'Second instance of key "CallerReference" encountered' in theirs.stderr
    assert ours.stderr.strip() == theirs.stderr.strip()
    assert ours.returncode == 252


# --- errors ---------------------------------------------------------------------------------------


NO_SUCH_DISTRIBUTION = {
    "create": ("create-invalidation", "--distribution-id", "ENOSUCHDIST1234", "--paths", "/a"),
    "get": ("get-invalidation", "--distribution-id", "ENOSUCHDIST1234", "--id", "I1"),
    "list": ("list-invalidations", "--distribution-id", "ENOSUCHDIST1234"),
}


def test_no_such_distribution_as_processes(emu: CloudFrontEmulator) -> None:
    """Whole processes: the same message and v1's exit code, v2's 254 by default."""
    args = NO_SUCH_DISTRIBUTION["create"]
    theirs, ours_v1 = processes(emu, *args, CFINV_EXIT_CODES="v1")
    assert theirs.returncode == 255  # AWS CLI v1, the one on PyPI
    assert ours_v1.returncode == theirs.returncode
    assert ours_v1.stderr == theirs.stderr
    (ours_v2,) = [_finish(_start(CFINV, emu, args, {}))]
    assert ours_v2.returncode == 254  # AWS CLI v2's code for a service error
    assert ours_v2.stderr == theirs.stderr


@pytest.mark.parametrize("operation", sorted(NO_SUCH_DISTRIBUTION))
def test_no_such_distribution(
    aws_driver: Callable[[], Any], emu: CloudFrontEmulator, operation: str
) -> None:
    """The same message for every operation; 255 as v1 answers it."""
    theirs, ours = both(aws_driver, emu, *NO_SUCH_DISTRIBUTION[operation])
    assert theirs.returncode == 255
    assert ours.returncode == 254
    assert ours.stderr == theirs.stderr
